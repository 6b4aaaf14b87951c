package dev.gradclip.cli.spec;

import dev.gradclip.Schedule;
import dev.gradclip.cli.spec.SpecParameters.Accepted;
import dev.gradclip.optim.Adam;
import dev.gradclip.optim.Optimizer;
import dev.gradclip.optim.Optimizers;
import dev.gradclip.optim.RmsProp;
import dev.gradclip.cli.spec.SpecParameters.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A parsed optimizer SPEC of the command line: {@code NAME[:key=value,...]}, PyTorch's defaults for
 * whatever is not given.
 *
 * <ul>
 *   <li>{@code sgd:lr=η}: {@code θ ← θ − η·g};</li>
 *   <li>{@code momentum:lr=η,beta=μ} (μ = 0.9): heavy ball, {@code b ← μ·b + g; θ ← θ − η·b};</li>
 *   <li>{@code nesterov:lr=η,beta=μ} (μ = 0.9): {@code θ ← θ − η·(g + μ·b)};</li>
 *   <li>{@code rmsprop:lr=η,alpha=α,eps=ε,momentum=μ,centered} (α = 0.99, ε = 1e-8, μ = 0);</li>
 *   <li>{@code adam:lr=η,beta1=β1,beta2=β2,eps=ε} (0.9, 0.999, 1e-8);</li>
 *   <li>{@code adamw:...,wd=λ}: Adam with decoupled weight decay (λ = 0.01).</li>
 * </ul>
 * Every optimizer also takes a learning-rate schedule: {@code schedule=constant|cosine|step}
 * ({@code step} with {@code every=N,gamma=G}) and {@code warmup=N} linear warm-up steps. Without
 * {@code lr} the task's default learning rate is used.
 *
 * @param text       the spec as given
 * @param name       the optimizer's name
 * @param parameters its parameters
 */
public record OptimizerSpec(String text, String name, SpecParameters parameters) {

    /** The optimizer names, in the order help texts list them. */
    public static final List<String> NAMES = List.of("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw");

    private static final List<Accepted> SCHEDULE = List.of(Accepted.word("schedule", "constant", "cosine", "step"),
            Accepted.of("warmup", Kind.COUNT), Accepted.of("every", Kind.COUNT), Accepted.of("gamma", Kind.FRACTION));

    /** Checks the components. */
    public OptimizerSpec {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(parameters, "parameters");
    }

    /**
     * Parses an optimizer spec.
     *
     * @param text the spec, e.g. {@code momentum:lr=0.01,beta=0.9}
     * @return the spec
     * @throws IllegalArgumentException naming the spec and what is wrong
     */
    public static OptimizerSpec parse(String text) {
        Objects.requireNonNull(text, "text");
        String spec = text.trim();
        int colon = spec.indexOf(':');
        String name = (colon < 0 ? spec : spec.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
        String args = colon < 0 ? "" : spec.substring(colon + 1).trim();
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown optimizer spec '" + spec + "'"
                    + dev.gradclip.cli.NearMiss.hint(name, NAMES) + " (known: sgd:lr=η,"
                    + " momentum:lr=η,beta=μ, nesterov:lr=η,beta=μ, rmsprop:lr=η, adam:lr=η, adamw:lr=η,wd=λ)");
        }
        List<Accepted> accepted = new ArrayList<>(List.of(Accepted.of("lr", Kind.POSITIVE)));
        switch (name) {
            case "momentum":
            case "nesterov":
                accepted.add(Accepted.of("beta", Kind.FRACTION));
                break;
            case "rmsprop":
                accepted.addAll(List.of(Accepted.of("alpha", Kind.FRACTION), Accepted.of("eps", Kind.POSITIVE),
                        Accepted.of("momentum", Kind.NON_NEGATIVE), Accepted.of("centered", Kind.FLAG)));
                break;
            case "adam":
                accepted.addAll(List.of(Accepted.of("beta1", Kind.FRACTION), Accepted.of("beta2", Kind.FRACTION),
                        Accepted.of("eps", Kind.POSITIVE)));
                break;
            case "adamw":
                accepted.addAll(List.of(Accepted.of("beta1", Kind.FRACTION), Accepted.of("beta2", Kind.FRACTION),
                        Accepted.of("eps", Kind.POSITIVE), Accepted.of("wd", Kind.NON_NEGATIVE)));
                break;
            default:
                break;
        }
        accepted.addAll(SCHEDULE);
        SpecParameters parameters = SpecParameters.parse(spec, name, args, null, accepted);
        if (parameters.word("schedule", "constant").equals("step") && !parameters.has("every")) {
            throw new IllegalArgumentException("optimizer spec '" + spec + "': schedule=step needs every=N");
        }
        return new OptimizerSpec(spec, name, parameters);
    }

    /**
     * @param fallback the task's default learning rate
     * @return the learning rate given, else {@code fallback}
     */
    public double learningRate(double fallback) {
        return parameters.number("lr", fallback);
    }

    /**
     * The learning rate given or the task's, written into the spec text, so that summaries show the
     * value used.
     *
     * @param fallback the task's default learning rate
     * @return the spec with {@code lr} filled in
     */
    public OptimizerSpec withDefaultLearningRate(double fallback) {
        if (parameters.has("lr")) {
            return this;
        }
        String lr = "lr=" + fallback;
        return parse(text.contains(":") ? text + "," + lr : text + ":" + lr);
    }

    /**
     * The learning-rate schedule: {@code constant} (default), {@code cosine} (to 0 over the run),
     * {@code step} ({@code every=N}, {@code gamma=G}, default 0.1), each optionally preceded by a
     * linear {@code warmup=N}.
     *
     * @param learningRate the base learning rate
     * @param totalSteps   the run's length, for the cosine schedule
     * @return the schedule
     */
    public Schedule schedule(double learningRate, long totalSteps) {
        Schedule base;
        switch (parameters.word("schedule", "constant")) {
            case "cosine":
                base = Schedule.cosine(learningRate, Math.max(1, totalSteps), 0.0);
                break;
            case "step":
                base = Schedule.step(learningRate, parameters.count("every", 1), parameters.number("gamma", 0.1));
                break;
            default:
                base = Schedule.constant(learningRate);
                break;
        }
        return parameters.has("warmup") ? Schedule.linearWarmup(parameters.count("warmup", 1), base) : base;
    }

    /**
     * Builds the optimizer on {@code float[]} parameters (gradclip-core).
     *
     * @param fallbackLearningRate the learning rate when the spec gives none
     * @param totalSteps           the run's length, for the cosine schedule
     * @return a fresh optimizer
     */
    public Optimizer newOptimizer(double fallbackLearningRate, long totalSteps) {
        double lr = learningRate(fallbackLearningRate);
        Schedule schedule = schedule(lr, totalSteps);
        switch (name) {
            case "momentum":
                return Optimizers.momentum(lr, parameters.number("beta", 0.9)).withSchedule(schedule);
            case "nesterov":
                return Optimizers.nesterov(lr, parameters.number("beta", 0.9)).withSchedule(schedule);
            case "rmsprop":
                return Optimizers.rmsProp(lr).withAlpha(parameters.number("alpha", RmsProp.DEFAULT_ALPHA))
                        .withEpsilon(parameters.number("eps", RmsProp.DEFAULT_EPSILON))
                        .withMomentum(parameters.number("momentum", 0.0))
                        .withCentered(parameters.flag("centered", false)).withSchedule(schedule);
            case "adam":
                return Optimizers.adam(schedule).withBetas(parameters.number("beta1", Adam.DEFAULT_BETA1),
                        parameters.number("beta2", Adam.DEFAULT_BETA2))
                        .withEpsilon(parameters.number("eps", Adam.DEFAULT_EPSILON));
            case "adamw":
                return Optimizers.adamW(schedule).withBetas(parameters.number("beta1", Adam.DEFAULT_BETA1),
                        parameters.number("beta2", Adam.DEFAULT_BETA2))
                        .withEpsilon(parameters.number("eps", Adam.DEFAULT_EPSILON))
                        .withWeightDecay(parameters.number("wd", Adam.DEFAULT_ADAMW_WEIGHT_DECAY));
            default:
                return Optimizers.sgd(schedule);
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
