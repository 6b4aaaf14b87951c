package dev.gradclip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gradclip.SimulatedWorkers.InProcessExchange;
import dev.gradclip.SimulatedWorkers.Outcome;
import dev.gradclip.internal.Norms;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Tag;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A sharded clipper on simulated workers clips as the single-machine clipper clips the concatenated
 * gradient: every worker's report, every clipped float (compared as bits) and the saved state
 * (compared as bytes) are the single machine's, over 50 steps with spikes, for every way of
 * splitting the tensors over the workers; a NaN or an infinity anywhere gets the same decision on
 * every worker under every policy.
 *
 * <p>Tagged {@code kernels}, so that it runs with the SIMD and with the scalar kernels.
 */
@Tag("kernels")
class ShardedClipperTest {

    static final int STEPS = 50;

    /** A clipper to compare, and whether its report is the single machine's (not for value, AGC). */
    record Method(String name, Supplier<Clipper> factory, boolean sameReport) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Method> methods() {
        return List.of(
                new Method("global-norm p=2", () -> Clippers.globalNorm(1.0), true),
                new Method("global-norm p=1", () -> Clippers.globalNorm(4.0).withNormType(1.0), true),
                new Method("global-norm p=3", () -> Clippers.globalNorm(0.7).withNormType(3.0), true),
                new Method("global-norm p=inf",
                        () -> Clippers.globalNorm(0.3).withNormType(Double.POSITIVE_INFINITY), true),
                new Method("global-norm PyTorch epsilon", () -> Clippers.globalNorm(1.0).withEpsilon(1e-6), true),
                new Method("group-norm", () -> Clippers.groupNorm(0.6), true),
                new Method("group-norm p=3", () -> Clippers.groupNorm(0.6).withNormType(3.0), true),
                new Method("norm per tensor", () -> Clippers.norm(0.4), true),
                new Method("renormalize global", () -> Clippers.renormalize(NormScope.GLOBAL), true),
                new Method("renormalize group", () -> Clippers.renormalize(NormScope.GROUP), true),
                new Method("none", Clippers::none, true),
                new Method("autoclip", Clippers::autoClip, true),
                new Method("autoclip p=50 window 8", () -> Clippers.autoClip(50).withWindow(8), true),
                new Method("zclip", () -> Clippers.zClip().withWarmupSteps(5), true),
                new Method("zclip uncapped, skip on spike",
                        () -> Clippers.zClip().withoutMaxNorm().withWarmupSteps(5).withSkipStepOnSpike(true), true),
                new Method("adagc", () -> Clippers.adaGC().withWarmupSteps(10), true),
                new Method("spike guard around global-norm",
                        () -> Clippers.spikeGuard(Clippers.globalNorm(1.0)).withWindow(10, 5), true),
                new Method("spike guard z-score around zclip",
                        () -> Clippers.spikeGuard(Clippers.zClip().withWarmupSteps(5), 3).withZScore(2.0), true),
                new Method("scheduled", () -> Clippers.scheduled(Schedule.constant(1.0).withLinearWarmup(20)), true),
                new Method("scheduled p=inf", () -> Clippers.scheduled(Schedule.cosine(0.5, 40, 0.1))
                        .withNormType(Double.POSITIVE_INFINITY), true),
                new Method("value", () -> Clippers.value(0.05), false),
                new Method("agc", () -> Clippers.agc(0.05), false));
    }

    /** Ways of placing the model's tensors on workers. */
    enum Split {
        CONTIGUOUS, INTERLEAVED, UNEVEN_SHUFFLED, ONE_WORKER_EMPTY, SINGLE_WORKER;

        /** @return the owner of each tensor; {@link #UNEVEN_SHUFFLED} also lists local tensors out of order */
        int[] owners(int tensors, int workers, Random r) {
            int[] owner = new int[tensors];
            for (int t = 0; t < tensors; t++) {
                owner[t] = switch (this) {
                    case CONTIGUOUS -> t * workers / tensors;
                    case INTERLEAVED -> t % workers;
                    case UNEVEN_SHUFFLED -> r.nextInt(3) == 0 ? r.nextInt(workers) : 0;
                    case ONE_WORKER_EMPTY -> 1 + t * (workers - 1) / tensors;
                    case SINGLE_WORKER -> 0;
                };
            }
            return owner;
        }
    }

    static Stream<Arguments> methodsAndSplits() {
        List<Arguments> out = new ArrayList<>();
        for (Method m : methods()) {
            for (Split s : Split.values()) {
                out.add(Arguments.of(m, s));
            }
        }
        return out.stream();
    }

    /** A small model: weights and biases in four layers, a scalar, an empty tensor. */
    static GradientCase model(Random r) {
        List<String> names = List.of("embed.weight", "layer0.weight", "layer0.bias", "layer1.weight", "layer1.bias",
                "empty.weight", "temperature", "head.weight", "head.bias");
        List<long[]> shapes = List.of(new long[] {12, 6}, new long[] {8, 12}, new long[] {8}, new long[] {3, 4, 5},
                new long[] {3}, new long[] {0, 4}, new long[0], new long[] {2, 8}, new long[] {2});
        List<float[]> grads = new ArrayList<>();
        List<float[]> params = new ArrayList<>();
        for (long[] shape : shapes) {
            int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            float[] w = new float[n];
            for (int i = 0; i < n; i++) {
                w[i] = (float) (r.nextGaussian() * 0.1);
            }
            grads.add(new float[n]);
            params.add(w);
        }
        return new GradientCase(names, shapes, grads, params);
    }

    /**
     * Gradients for {@code steps} steps: each tensor at its own scale, drifting, with a spike of every
     * tensor at steps 20, 33 and 41, a spike of one tensor at step 27, and a tensor all zeros at
     * step 15 (AdaGC's zero-norm path).
     */
    static float[][][] steps(GradientCase model, int steps, Random r) {
        int n = model.names().size();
        double[] scale = new double[n];
        for (int t = 0; t < n; t++) {
            scale[t] = Math.pow(10, -1.5 + r.nextDouble()) / Math.sqrt(Math.max(1, model.grads().get(t).length));
        }
        float[][][] out = new float[steps][n][];
        for (int s = 0; s < steps; s++) {
            double drift = 1 + 0.5 * Math.sin(s / 7.0);
            for (int t = 0; t < n; t++) {
                double spike = s == 20 || s == 33 || s == 41 ? 100 : s == 27 && t == 1 ? 1000 : 1;
                float[] g = new float[model.grads().get(t).length];
                for (int i = 0; i < g.length; i++) {
                    g[i] = s == 15 && t == 3 ? 0f : (float) (r.nextGaussian() * scale[t] * drift * spike);
                }
                out[s][t] = g;
            }
        }
        return out;
    }

    static float[][][] copy(float[][][] steps) {
        float[][][] out = new float[steps.length][][];
        for (int s = 0; s < steps.length; s++) {
            out[s] = new float[steps[s].length][];
            for (int t = 0; t < steps[s].length; t++) {
                out[s][t] = steps[s][t].clone();
            }
        }
        return out;
    }

    /** The gradient set of one worker's tensors over the given arrays (shared, so writes show). */
    static GradientSet local(GradientCase model, float[][] g, int[] owner, int worker, boolean shuffled, long seed) {
        List<Integer> mine = new ArrayList<>();
        for (int t = 0; t < owner.length; t++) {
            if (owner[t] == worker) {
                mine.add(t);
            }
        }
        if (shuffled) {
            Collections.shuffle(mine, new Random(seed + worker));
        }
        GradientSet.Builder b = GradientSet.builder();
        for (int t : mine) {
            b.add(model.names().get(t), g[t], model.params().get(t), model.shapes().get(t));
        }
        return b.build();
    }

    /** What a clip call gave: its report, or the exception it threw, as class and message. */
    static Object outcome(Clipper c, Gradients g) {
        try {
            return c.clip(g);
        } catch (RuntimeException e) {
            return e.getClass().getName() + ": " + e.getMessage();
        }
    }

    /** Single machine and workers, step by step; the workers' outcomes, states and clipped values. */
    record Comparison(List<Object> single, byte[] singleState, float[][][] singleValues,
            List<Outcome<List<Object>>> workers, List<byte[]> workerStates, float[][][] shardedValues,
            long exchanges) {
    }

    static Comparison compare(Supplier<Clipper> factory, GradientCase model, float[][][] steps, int[] owner,
            int workers, boolean shuffled) {
        TensorLayout layout = TensorLayout.of(model.set(steps[0]));
        Clipper single = factory.get();
        float[][][] singleValues = copy(steps);
        List<Object> singleOutcomes = new ArrayList<>();
        for (float[][] g : singleValues) {
            singleOutcomes.add(outcome(single, model.set(g)));
        }
        float[][][] shardedValues = copy(steps);
        byte[][] states = new byte[workers][];
        InProcessExchange exchange = new InProcessExchange(workers);
        List<Outcome<List<Object>>> outcomes = SimulatedWorkers.run(workers, exchange, (w, ex) -> {
            Clipper clipper = Clippers.sharded(factory.get(), ex);
            List<Object> mine = new ArrayList<>();
            for (int s = 0; s < shardedValues.length; s++) {
                GradientSet local = local(model, shardedValues[s], owner, w, shuffled, s);
                mine.add(outcome(clipper, GradientShard.of(local, layout)));
            }
            states[w] = clipper.saveState();
            return mine;
        });
        return new Comparison(singleOutcomes, single.saveState(), singleValues, outcomes, Arrays.asList(states),
                shardedValues, exchange.calls());
    }

    static void assertSameBits(float[][][] expected, float[][][] actual) {
        for (int s = 0; s < expected.length; s++) {
            for (int t = 0; t < expected[s].length; t++) {
                for (int i = 0; i < expected[s][t].length; i++) {
                    int e = Float.floatToRawIntBits(expected[s][t][i]);
                    int a = Float.floatToRawIntBits(actual[s][t][i]);
                    if (e != a) {
                        throw new AssertionError("step " + s + " tensor " + t + " element " + i + ": one machine "
                                + expected[s][t][i] + ", sharded " + actual[s][t][i]);
                    }
                }
            }
        }
    }

    static void assertAsOneMachine(Comparison c, boolean sameReport) {
        for (int w = 0; w < c.workers().size(); w++) {
            Outcome<List<Object>> o = c.workers().get(w);
            assertThat(o.thrown()).as("worker %d", w).isNull();
            if (sameReport) {
                assertThat(o.value()).as("worker %d's reports", w).isEqualTo(c.single());
            } else {
                for (int s = 0; s < c.single().size(); s++) {
                    ClipReport mine = (ClipReport) o.value().get(s);
                    ClipReport one = (ClipReport) c.single().get(s);
                    assertThat(mine.normBefore()).isEqualTo(one.normBefore());
                    assertThat(mine.tensorNorms()).isEqualTo(one.tensorNorms());
                    assertThat(mine.skipped()).isEqualTo(one.skipped());
                }
            }
            assertThat(c.workerStates().get(w)).as("worker %d's state", w).isEqualTo(c.singleState());
        }
        assertSameBits(c.singleValues(), c.shardedValues());
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("methodsAndSplits")
    void fiftyStepsWithSpikesAreTheSingleMachinesBitForBit(Method method, Split split) {
        Random r = new Random(method.name().hashCode() * 31L + split.ordinal());
        GradientCase model = model(r);
        int workers = split == Split.SINGLE_WORKER ? 1 : 3;
        int[] owner = split.owners(model.names().size(), workers, r);
        Comparison c = compare(method.factory(), model, steps(model, STEPS, r), owner, workers,
                split == Split.UNEVEN_SHUFFLED);
        assertAsOneMachine(c, method.sameReport());
        assertThat(c.exchanges()).isEqualTo(STEPS);
    }

    /** The adaptive clippers did adapt: otherwise equal states would prove little. */
    @Test
    void theSpikesExerciseTheAdaptiveRules() {
        Random r = new Random(7);
        GradientCase model = model(r);
        float[][][] steps = steps(model, STEPS, r);
        ZClipper z = Clippers.zClip().withWarmupSteps(5);
        SpikeGuard guard = Clippers.spikeGuard(Clippers.globalNorm(1.0)).withWindow(10, 5);
        long zClipped = 0;
        for (float[][] g : copy(steps)) {
            zClipped += z.clip(model.set(g)).clippedCount();
        }
        for (float[][] g : copy(steps)) {
            guard.clip(model.set(g));
        }
        assertThat(z.initialized()).isTrue();
        assertThat(zClipped).isGreaterThan(3);
        assertThat(guard.skips()).isGreaterThanOrEqualTo(3);
    }

    /**
     * A NaN in one worker's tensor and an infinity in another's: the same decision on every worker,
     * the single machine's, for every policy; under THROW the same exception (naming the model's
     * lowest-numbered offending tensor) on every worker, gradients untouched; under ZERO a second
     * exchange on that step.
     */
    @ParameterizedTest
    @EnumSource(NonFinitePolicy.class)
    void aNonFiniteGradientAnywhereGetsOneDecisionEverywhere(NonFinitePolicy policy) {
        for (Method method : List.of(methods().get(0), methods().get(13), methods().get(15), methods().get(16))) {
            for (Split split : List.of(Split.CONTIGUOUS, Split.INTERLEAVED, Split.UNEVEN_SHUFFLED)) {
                Random r = new Random(11);
                GradientCase model = model(r);
                float[][][] steps = steps(model, 12, r);
                steps[6][3][2] = Float.NaN;
                steps[6][7][1] = Float.POSITIVE_INFINITY;
                steps[9][8][0] = Float.NEGATIVE_INFINITY;
                int[] owner = split.owners(model.names().size(), 3, r);
                Supplier<Clipper> factory = () -> method.factory().get().withNonFinitePolicy(policy);
                Comparison c = compare(factory, model, steps, owner, 3, split == Split.UNEVEN_SHUFFLED);
                assertAsOneMachine(c, true);
                Object atNaN = c.single().get(6);
                switch (policy) {
                    case THROW -> {
                        assertThat(atNaN).isEqualTo(NonFiniteGradientException.class.getName()
                                + ": " + new NonFiniteGradientException("layer1.weight", 2, Float.NaN, 2).getMessage());
                        assertThat(c.shardedValues()[6][3][2]).isNaN(); // untouched
                        assertThat(c.shardedValues()[6][0]).isEqualTo(steps[6][0]);
                    }
                    case SKIP -> assertThat(((ClipReport) atNaN).skipped()).isTrue();
                    case ZERO -> {
                        assertThat(((ClipReport) atNaN).nonFiniteCount()).isEqualTo(2);
                        assertThat(c.shardedValues()[6][3][2]).isEqualTo(0f);
                    }
                    case PROPAGATE -> assertThat(((ClipReport) atNaN).firstNonFiniteTensor()).isEqualTo("layer1.weight");
                }
                assertThat(c.exchanges()).isEqualTo(policy == NonFinitePolicy.ZERO ? 12 + 2 : 12);
            }
        }
    }

    /** Any model, any split over one to five workers, any fixed clipper: the single machine's clip. */
    @Property(tries = 150)
    void anySplitClipsAsOneMachine(@ForAll long seed, @ForAll @IntRange(min = 1, max = 5) int workers,
            @ForAll @IntRange(min = 0, max = 12) int methodIndex) {
        Random r = new Random(seed);
        GradientCase model = GradientCase.random(r, 2000);
        // the fixed clippers: the norm family, none, value and AGC
        Method method = methods().get(methodIndex <= 10 ? methodIndex : methodIndex + 9);
        int[] owner = new int[model.names().size()];
        Arrays.setAll(owner, t -> r.nextInt(workers));
        float[][][] steps = {model.copyGrads()};
        Comparison c = compare(method.factory(), model, steps, owner, workers, r.nextBoolean());
        assertAsOneMachine(c, method.sameReport());
    }

    @Test
    void aTensorHeldTwiceOrByNoWorkerIsTheSameErrorOnEveryWorker() {
        Random r = new Random(3);
        GradientCase model = model(r);
        float[][][] steps = steps(model, 1, r);
        int[] owner = Split.INTERLEAVED.owners(model.names().size(), 3, r);
        TensorLayout layout = TensorLayout.of(model.set(steps[0]));
        List<Outcome<Object>> twice = SimulatedWorkers.run(3, new InProcessExchange(3), (w, ex) -> {
            int[] mine = owner.clone();
            if (w == 1) {
                mine[0] = 1; // worker 1 claims worker 0's tensor too
            }
            return outcome(Clippers.sharded(Clippers.globalNorm(1.0), ex),
                    GradientShard.of(local(model, steps[0], mine, w, false, 0), layout));
        });
        assertThat(twice).extracting(Outcome::value).containsOnly(IllegalStateException.class.getName()
                + ": tensor 'embed.weight' is held by 2 workers; each tensor must be held whole by exactly one");
        List<Outcome<Object>> none = SimulatedWorkers.run(3, new InProcessExchange(3), (w, ex) -> {
            int[] mine = owner.clone();
            mine[4] = -1;
            return outcome(Clippers.sharded(Clippers.globalNorm(1.0), ex),
                    GradientShard.of(local(model, steps[0], mine, w, false, 0), layout));
        });
        assertThat(none).extracting(Outcome::value).allSatisfy(
                v -> assertThat((String) v).contains("tensor 'layer1.bias' is held by no worker"));
    }

    @Test
    void aShardAndAPlainClipperDoNotMix() {
        GradientSet whole = GradientSet.of(new float[] {3, 4}, new float[] {1});
        TensorLayout layout = TensorLayout.of(whole);
        GradientShard shard = GradientShard.of(GradientSet.builder().add("grads[1]", new float[] {1}, 1).build(), layout);
        assertThatThrownBy(() -> Clippers.globalNorm(1.0).clip(shard))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Clippers.sharded");
        NormExchange alone = c -> new double[][] {c};
        assertThatThrownBy(() -> Clippers.sharded(Clippers.globalNorm(1.0), alone).clip(whole))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("GradientShard");
    }

    @Test
    void oneWorkerHoldingEverythingIsTheSingleMachine() {
        float[] a = {3, 4};
        float[] b = {12};
        GradientSet whole = GradientSet.of(a.clone(), b.clone());
        ClipReport single = Clippers.globalNorm(1.0).clip(whole);
        GradientSet mine = GradientSet.of(a, b);
        ClipReport sharded = Clippers.sharded(Clippers.globalNorm(1.0), c -> new double[][] {c})
                .clip(GradientShard.of(mine, TensorLayout.of(mine)));
        assertThat(sharded).isEqualTo(single);
        assertThat(sharded.normBefore()).isEqualTo(13.0);
        assertThat(a).containsExactly(whole.gradient(0));
    }

    @Test
    void shardingIsDoneOnceAndOutsideTheSpikeGuard() {
        NormExchange alone = c -> new double[][] {c};
        ShardedClipper sharded = Clippers.sharded(Clippers.zClip(), alone);
        assertThatThrownBy(() -> Clippers.sharded(sharded, alone)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sharded already");
        assertThatThrownBy(() -> Clippers.spikeGuard(sharded)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Clippers.sharded(Clippers.spikeGuard(clipper), exchange)");
        assertThat(sharded.withNonFinitePolicy(NonFinitePolicy.SKIP).nonFinitePolicy())
                .isEqualTo(NonFinitePolicy.SKIP);
        assertThat(sharded.method()).isEqualTo("zclip");
    }

    @Test
    void aShardFindsItsTensorsByNameAndChecksTheirGroups() {
        GradientSet whole = GradientSet.builder().add("fc1.weight", new float[4], 2, 2).add("fc1.bias", new float[2], 2)
                .add("fc2.weight", new float[2], 1, 2).build();
        TensorLayout layout = TensorLayout.of(whole);
        GradientShard shard = GradientShard.of(
                GradientSet.builder().add("fc2.weight", new float[2], 1, 2).add("fc1.weight", new float[4], 2, 2)
                        .build(), layout);
        assertThat(shard.globalIndex(0)).isEqualTo(2);
        assertThat(shard.globalIndex(1)).isEqualTo(0);
        assertThat(shard.localIndex(1)).isEqualTo(-1);
        assertThatThrownBy(() -> GradientShard.of(GradientSet.builder().add("fc3.weight", new float[1], 1).build(),
                layout)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'fc3.weight'");
        assertThatThrownBy(() -> GradientShard.of(GradientSet.builder()
                .add("fc1.bias", "other", new float[2], null, 2).build(), layout))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("group 'other'");
        assertThatThrownBy(() -> new TensorLayout(List.of("a", "a"), List.of("g", "g")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a' appears twice");
    }

    @Test
    void aLayoutTravelsAsJavaSerialisation() throws Exception {
        TensorLayout layout = new TensorLayout(List.of("fc1.weight", "fc1.bias"), List.of("fc1", "fc1"));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(layout);
        }
        // the names' lookup map travels as the plain list it wraps and is built again on arrival
        assertThat(bytes.toString(java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("Names");
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            TensorLayout back = (TensorLayout) in.readObject();
            assertThat(back).isEqualTo(layout);
            assertThat(back.indexOf("fc1.bias")).isEqualTo(1);
        }
    }

    @Test
    void aLayoutLooksNamesUpAsItsListWould() {
        TensorLayout layout = new TensorLayout(List.of("fc1.weight", "fc1.bias"), List.of("fc1", "fc1"));
        assertThat(layout.indexOf("fc1.bias")).isEqualTo(1);
        assertThat(layout.indexOf("fc2.bias")).isEqualTo(-1);
        assertThat(layout.indexOf(null)).isEqualTo(-1);
        assertThat(layout.names()).containsExactly("fc1.weight", "fc1.bias").isEqualTo(List.of("fc1.weight",
                "fc1.bias")).hasSameHashCodeAs(List.of("fc1.weight", "fc1.bias"));
        assertThat(layout.names().indexOf("fc1.bias")).isEqualTo(1);
        assertThat(layout.names().lastIndexOf("fc1.weight")).isZero();
        assertThat(layout.names().contains("fc2.bias")).isFalse();
        assertThat(layout.toString()).isEqualTo("TensorLayout[names=[fc1.weight, fc1.bias], groups=[fc1, fc1]]");
        assertThatThrownBy(() -> layout.names().indexOf(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> layout.names().add("fc2.weight")).isInstanceOf(UnsupportedOperationException.class);
    }

    /**
     * Why per-tensor norms travel rather than one partial sum per worker: summing each worker's
     * {@code Σ n_t²} and then the workers' sums, as an all-reduce does, agrees with the single
     * machine's norm to about 1e-13 but not bit for bit.
     */
    @Test
    void summingOnePartialPerWorkerIsCloseButNotBitIdentical() {
        Random r = new Random(5);
        int differ = 0;
        for (int trial = 0; trial < 200; trial++) {
            double[] norms = new double[10];
            Arrays.setAll(norms, t -> Math.exp(3 * r.nextGaussian()));
            double single = Norms.combine(norms, 2.0);
            double even = 0;
            double odd = 0;
            for (int t = 0; t < norms.length; t++) {
                if (t % 2 == 0) {
                    even += norms[t] * norms[t];
                } else {
                    odd += norms[t] * norms[t];
                }
            }
            double allReduced = Math.sqrt(even + odd);
            assertThat(Math.abs(allReduced - single)).isLessThanOrEqualTo(1e-13 * single);
            differ += allReduced == single ? 0 : 1;
        }
        assertThat(differ).isGreaterThan(0);
    }

    /** The example of docs/library.md ("Clipping across workers"), on two simulated workers. */
    @Test
    void theLibraryDocsExampleRuns() {
        TensorLayout model = new TensorLayout(List.of("layer2.weight", "layer3.weight", "layer3.bias"),
                List.of("layer2", "layer3", "layer3"));
        float[] grad2 = {3, 0};
        float[] grad3 = {0, 4, 0, 0};
        float[] grad3b = {12};
        List<Outcome<ClipReport>> reports = SimulatedWorkers.run(2, new InProcessExchange(2), (w, exchange) -> {
            Clipper clipper = Clippers.sharded(Clippers.globalNorm(1.0), exchange);
            GradientShard mine = GradientShard.of(w == 0
                    ? GradientSet.builder().add("layer2.weight", grad2, new float[2], 1, 2).build()
                    : GradientSet.builder().add("layer3.weight", grad3, new float[4], 2, 2)
                            .add("layer3.bias", grad3b, new float[1], 1).build(), model);
            return clipper.clip(mine);
        });
        assertThat(reports).extracting(Outcome::thrown).containsOnlyNulls();
        assertThat(reports).extracting(o -> o.value().normBefore()).containsExactly(13.0, 13.0);
        assertThat(grad2[0]).isEqualTo((float) (1.0 / 13.0) * 3);
        assertThat(grad3b[0]).isEqualTo((float) (1.0 / 13.0) * 12);
    }
}
