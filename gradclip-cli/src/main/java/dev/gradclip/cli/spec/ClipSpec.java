package dev.gradclip.cli.spec;

import dev.gradclip.AdaGcClipper;
import dev.gradclip.AutoClipper;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.NormScope;
import dev.gradclip.SpikeGuard;
import dev.gradclip.ZClipper;
import dev.gradclip.cli.spec.SpecParameters.Accepted;
import dev.gradclip.cli.spec.SpecParameters.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A parsed clip SPEC of the command line: a method, an optional spike guard and a non-finite policy.
 *
 * <p>Grammar: {@code METHOD[:PARAMS][+spike-guard[:PARAMS]][+POLICY]}, parts in any order after the
 * method, each at most once, where
 * <ul>
 *   <li>{@code none}: measure only;</li>
 *   <li>{@code value:C}: clamp every element to {@code [-C, C]};</li>
 *   <li>{@code norm:C}: per-tensor L2 norm; {@code group-norm:C}: per layer;</li>
 *   <li>{@code global-norm:C[,p=P][,eps=E]}: global p-norm (P ≥ 1 or {@code inf}; {@code eps=1e-6}
 *       reproduces PyTorch's {@code c/(n+1e-6)});</li>
 *   <li>{@code agc:LAMBDA[,eps=E]}: adaptive gradient clipping, unit-wise (arXiv:2102.06171);</li>
 *   <li>{@code autoclip[:P][,window=N]}: the P-th percentile (default 10) of the norm history
 *       (arXiv:2007.14469);</li>
 *   <li>{@code zclip[:z=Z,alpha=A,warmup=N,max=M|none,mode=reciprocal|mean,skip]}: z-score clipping
 *       under a cap (arXiv:2504.02507), with the reference code's defaults {@code z=2.5},
 *       {@code alpha=0.97}, {@code warmup=25}, {@code max=1.0} (the cap, applied during warm-up as
 *       well; {@code max=none} removes it) and {@code mode=reciprocal} (its {@code adaptive_scaling});
 *       {@code skip} skips the step on a spike instead of clipping it;</li>
 *   <li>{@code adagc[:start=N,abs=A,rel=R,beta=B]}: per-tensor adaptive thresholds
 *       (arXiv:2502.11034);</li>
 *   <li>{@code spike-guard[:k=K,z=S,window=N,warmup=W]}: skip a step whose norm is more than K
 *       times (default 10) the running median of the last N norms, or whose z-score exceeds S;
 *       alone it means {@code none+spike-guard};</li>
 *   <li>POLICY: {@code throw-nonfinite} (the default), {@code skip-nonfinite}, {@code zero-nonfinite},
 *       {@code propagate-nonfinite}.</li>
 * </ul>
 *
 * @param text       the spec as given
 * @param method     the clipping method
 * @param parameters the method's parameters
 * @param spikeGuard the spike guard's parameters, or {@code null} without a guard
 * <p>The clipper is built once, when the spec is parsed (so every error, a spike guard's warm-up
 * longer than its window included, is reported before a run starts); each run then gets a copy
 * with fresh statistics from {@link #newClipper()}. The spec's parameters are checked once, here,
 * with messages that name the spec; the clipper's own checks guard the library's callers.
 *
 * @param policy     the non-finite policy
 * @param prototype  the clipper built from the spec when it was parsed; never clipped with, so its
 *                   statistics stay fresh ({@link #newClipper()} copies it for each run)
 */
public record ClipSpec(String text, Method method, SpecParameters parameters, SpecParameters spikeGuard,
        NonFinitePolicy policy, Clipper prototype) {

    /** The spec name of the spike guard. */
    public static final String SPIKE_GUARD = "spike-guard";

    /** A clipping method of a spec, with the parameters it accepts. */
    public enum Method {
        /** No clipping, norms measured. */
        NONE("none", null, List.of()),
        /** Element-wise clamp. */
        VALUE("value", Accepted.of("c", Kind.POSITIVE), List.of()),
        /** Per-tensor norm. */
        NORM("norm", Accepted.of("c", Kind.POSITIVE), List.of(Accepted.of("p", Kind.NORM_TYPE))),
        /** Per-group (layer) norm. */
        GROUP_NORM("group-norm", Accepted.of("c", Kind.POSITIVE), List.of(Accepted.of("p", Kind.NORM_TYPE))),
        /** Global norm. */
        GLOBAL_NORM("global-norm", Accepted.of("c", Kind.POSITIVE),
                List.of(Accepted.of("p", Kind.NORM_TYPE), Accepted.of("eps", Kind.NON_NEGATIVE))),
        /** Adaptive gradient clipping. */
        AGC("agc", Accepted.of("lambda", Kind.POSITIVE), List.of(Accepted.of("eps", Kind.POSITIVE))),
        /** AutoClip. */
        AUTOCLIP("autoclip", Accepted.of("percentile", Kind.PERCENTILE), List.of(Accepted.of("window", Kind.COUNT))),
        /** ZClip. */
        ZCLIP("zclip", null, List.of(Accepted.of("z", Kind.POSITIVE), Accepted.of("alpha", Kind.FRACTION),
                Accepted.of("warmup", Kind.COUNT), Accepted.of("max", Kind.POSITIVE_OR_NONE),
                Accepted.word("mode", "reciprocal", "mean"), Accepted.of("skip", Kind.FLAG))),
        /** AdaGC. */
        ADAGC("adagc", null, List.of(Accepted.of("start", Kind.COUNT), Accepted.of("abs", Kind.POSITIVE),
                Accepted.of("rel", Kind.POSITIVE), Accepted.of("beta", Kind.FRACTION)));

        private final String specName;
        private final Accepted positional;
        private final List<Accepted> named;

        Method(String specName, Accepted positional, List<Accepted> named) {
            this.specName = specName;
            this.positional = positional;
            this.named = named;
        }

        /** @return the name used in specs, e.g. {@code global-norm} */
        public String specName() {
            return specName;
        }

        /** @return whether the spec must give the positional parameter (a threshold) */
        boolean requiresPositional() {
            return this == VALUE || this == NORM || this == GROUP_NORM || this == GLOBAL_NORM || this == AGC;
        }

        static Method byName(String spec, String name) {
            for (Method m : values()) {
                if (m.specName.equals(name)) {
                    return m;
                }
            }
            List<String> names = new ArrayList<>();
            for (Method m : values()) {
                names.add(m.specName);
            }
            int eq = name.indexOf('=');
            String hint;
            if (eq > 0 && names.contains(name.substring(0, eq))) {
                hint = "; did you mean '" + spec.replaceFirst("=", ":") + "'?";
            } else {
                String near = dev.gradclip.cli.NearMiss.closest(name, names);
                hint = near == null ? "" : "; did you mean '" + spec.replaceFirst(java.util.regex.Pattern.quote(name),
                        java.util.regex.Matcher.quoteReplacement(near)) + "'?";
            }
            throw new IllegalArgumentException("unknown clip spec '" + spec + "': '" + name + "' is not a method" + hint
                    + " (known: none, value:C, norm:C, group-norm:C, global-norm:C[,p=P], agc:LAMBDA, autoclip[:P],"
                    + " zclip[:z=Z,alpha=A,max=M|none], adagc, spike-guard; suffixes +spike-guard, +throw-nonfinite,"
                    + " +skip-nonfinite, +zero-nonfinite, +propagate-nonfinite)");
        }
    }

    /** The spike guard's accepted parameters. */
    static final List<Accepted> SPIKE_GUARD_PARAMETERS = List.of(Accepted.of("k", Kind.POSITIVE),
            Accepted.of("z", Kind.POSITIVE), Accepted.of("window", Kind.COUNT), Accepted.of("warmup", Kind.COUNT));

    /** Checks the components. */
    public ClipSpec {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(parameters, "parameters");
        Objects.requireNonNull(policy, "policy");
    }

    /**
     * Parses a clip spec.
     *
     * @param text the spec, e.g. {@code global-norm:1.0,p=2+spike-guard+skip-nonfinite}
     * @return the spec
     * @throws IllegalArgumentException naming the spec and the part that is wrong
     */
    public static ClipSpec parse(String text) {
        Objects.requireNonNull(text, "text");
        String spec = text.trim();
        if (spec.isEmpty()) {
            throw new IllegalArgumentException("empty clip spec (try none, value:1.0 or global-norm:1.0)");
        }
        String[] parts = spec.split("\\+", -1);
        Method method = null;
        SpecParameters parameters = null;
        SpecParameters guard = null;
        NonFinitePolicy policy = null;
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i].trim();
            if (part.isEmpty()) {
                throw new IllegalArgumentException("clip spec '" + spec + "' has an empty part around '+'");
            }
            int colon = part.indexOf(':');
            String name = (colon < 0 ? part : part.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
            String args = colon < 0 ? "" : part.substring(colon + 1).trim();
            if (name.equals(SPIKE_GUARD)) {
                if (guard != null) {
                    throw new IllegalArgumentException("clip spec '" + spec + "' names spike-guard twice");
                }
                guard = SpecParameters.parse(spec, SPIKE_GUARD, args, null, SPIKE_GUARD_PARAMETERS);
                if (i == 0) {
                    method = Method.NONE;
                    parameters = SpecParameters.parse(spec, "none", "", null, List.of());
                }
            } else if (name.endsWith("-nonfinite")) {
                if (policy != null) {
                    throw new IllegalArgumentException("clip spec '" + spec + "' gives two non-finite policies");
                }
                if (!args.isEmpty()) {
                    throw new IllegalArgumentException("clip spec '" + spec + "': '" + name + "' takes no parameters");
                }
                policy = policy(spec, name);
                if (i == 0) {
                    throw new IllegalArgumentException("clip spec '" + spec + "' must start with a method, e.g. none+"
                            + name);
                }
            } else if (i == 0) {
                method = Method.byName(spec, name);
                parameters = SpecParameters.parse(spec, name, args, method.positional, method.named);
                if (method.requiresPositional() && !parameters.has(method.positional.key())) {
                    throw new IllegalArgumentException("clip spec '" + spec + "': " + name + " needs its "
                            + (method == Method.AGC ? "lambda" : "threshold") + ", e.g. " + name + ":1.0");
                }
            } else {
                Method.byName(spec, name); // a known method in the wrong place gets the better message below
                throw new IllegalArgumentException("clip spec '" + spec + "' combines two methods; only spike-guard"
                        + " and a -nonfinite policy may follow the method");
            }
        }
        NonFinitePolicy nonFinite = policy == null ? NonFinitePolicy.THROW : policy;
        Clipper prototype;
        try {
            prototype = build(method, parameters, guard, nonFinite);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("clip spec '" + spec + "': " + e.getMessage(), e);
        }
        return new ClipSpec(spec, method, parameters, guard, nonFinite, prototype);
    }

    private static NonFinitePolicy policy(String spec, String name) {
        switch (name) {
            case "throw-nonfinite":
                return NonFinitePolicy.THROW;
            case "skip-nonfinite":
                return NonFinitePolicy.SKIP;
            case "zero-nonfinite":
                return NonFinitePolicy.ZERO;
            case "propagate-nonfinite":
                return NonFinitePolicy.PROPAGATE;
            default:
                throw new IllegalArgumentException("clip spec '" + spec + "': unknown policy '" + name + "'"
                        + dev.gradclip.cli.NearMiss.hint(name, List.of("throw-nonfinite", "skip-nonfinite",
                                "zero-nonfinite", "propagate-nonfinite", "spike-guard"))
                        + " (known: throw-nonfinite, skip-nonfinite, zero-nonfinite, propagate-nonfinite)");
        }
    }

    /** @return whether a spike guard is part of the spec */
    public boolean hasSpikeGuard() {
        return spikeGuard != null;
    }

    /**
     * A fresh clipper for one run: a copy of the {@link #prototype()} built at parse time, with the
     * same settings and fresh statistics.
     *
     * @return the clipper, spike guard included, with the spec's non-finite policy
     */
    public Clipper newClipper() {
        return prototype.withNonFinitePolicy(policy);
    }

    private static Clipper build(Method method, SpecParameters p, SpecParameters spikeGuard, NonFinitePolicy policy) {
        Clipper base;
        switch (method) {
            case NONE:
                base = Clippers.none();
                break;
            case VALUE:
                base = Clippers.value(p.number("c", Double.NaN));
                break;
            case NORM:
                base = Clippers.norm(p.number("c", Double.NaN)).withNormType(p.number("p", 2.0));
                break;
            case GROUP_NORM:
                base = Clippers.norm(p.number("c", Double.NaN), NormScope.GROUP).withNormType(p.number("p", 2.0));
                break;
            case GLOBAL_NORM:
                base = Clippers.globalNorm(p.number("c", Double.NaN)).withNormType(p.number("p", 2.0))
                        .withEpsilon(p.number("eps", 0.0));
                break;
            case AGC:
                base = p.has("eps") ? Clippers.agc(p.number("lambda", Double.NaN)).withEpsilon(p.number("eps", 0))
                        : Clippers.agc(p.number("lambda", Double.NaN));
                break;
            case AUTOCLIP: {
                AutoClipper a = Clippers.autoClip(p.number("percentile", AutoClipper.DEFAULT_PERCENTILE));
                base = p.has("window") ? a.withWindow(p.count("window", AutoClipper.DEFAULT_WINDOW)) : a;
                break;
            }
            case ZCLIP: {
                ZClipper z = Clippers.zClip()
                        .withZThreshold(p.number("z", ZClipper.DEFAULT_Z_THRESHOLD))
                        .withAlpha(p.number("alpha", ZClipper.DEFAULT_ALPHA))
                        .withWarmupSteps(p.count("warmup", ZClipper.DEFAULT_WARMUP_STEPS))
                        .withClipOption(p.word("mode", "reciprocal").equals("mean") ? ZClipper.ClipOption.MEAN
                                : ZClipper.ClipOption.ADAPTIVE_SCALING)
                        .withSkipStepOnSpike(p.flag("skip", false));
                double max = p.number("max", ZClipper.DEFAULT_MAX_NORM);
                base = max == Double.POSITIVE_INFINITY ? z.withoutMaxNorm() : z.withMaxNorm(max);
                break;
            }
            case ADAGC:
                base = Clippers.adaGC()
                        .withWarmupSteps(p.count("start", AdaGcClipper.DEFAULT_WARMUP_STEPS))
                        .withLambdaAbs(p.number("abs", AdaGcClipper.DEFAULT_LAMBDA_ABS))
                        .withLambdaRel(p.number("rel", AdaGcClipper.DEFAULT_LAMBDA_REL))
                        .withBeta(p.number("beta", AdaGcClipper.DEFAULT_BETA));
                break;
            default:
                throw new IllegalStateException(method.toString());
        }
        if (spikeGuard != null) {
            SpikeGuard g = Clippers.spikeGuard(base, spikeGuard.number("k", SpikeGuard.DEFAULT_MEDIAN_FACTOR));
            if (spikeGuard.has("z")) {
                g = g.withZScore(spikeGuard.number("z", Double.NaN));
            }
            if (spikeGuard.has("window") || spikeGuard.has("warmup")) {
                g = g.withWindow(spikeGuard.count("window", SpikeGuard.DEFAULT_WINDOW),
                        spikeGuard.count("warmup", SpikeGuard.DEFAULT_WARMUP));
            }
            base = g;
        }
        return base.withNonFinitePolicy(policy);
    }

    /**
     * The short label of this spec in tables and file names: the text without the default policy.
     *
     * @return the label, e.g. {@code global-norm:1.0}
     */
    public String label() {
        return text.replace("+throw-nonfinite", "");
    }

    /**
     * A label usable as a folder name: characters other than letters, digits, {@code .}, {@code -}
     * and {@code _} become {@code _}.
     *
     * @return the folder name
     */
    public String folderName() {
        return label().replaceAll("[^A-Za-z0-9._-]", "_");
    }

    /**
     * @return the list of method names, for help texts
     */
    public static List<String> methodNames() {
        List<String> names = new ArrayList<>();
        for (Method m : Method.values()) {
            names.add(m.specName());
        }
        names.add(SPIKE_GUARD);
        return names;
    }

    @Override
    public String toString() {
        return text;
    }
}
