package dev.gradclip.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.GradientSet;
import dev.gradclip.NonFinitePolicy;
import dev.gradclip.lab.fashion.FashionMnist;
import dev.gradclip.lab.sequence.RnnInit;
import dev.gradclip.lab.sequence.RnnWorkload;
import dev.gradclip.lab.sequence.SequenceTask;
import java.io.PrintWriter;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The share of a training step spent clipping, per method, on real DJL training steps (PyTorch
 * engine, CPU), each a gradclip-djl {@code ClippedTrainer} step timed in its three parts: forward and
 * backward, clipping (building the {@code DjlGradients} view and {@code clip}), and the optimizer
 * update, so the share is measured inside the same steps rather than as a difference of two noisy
 * step times. The baseline (no
 * clipping) is run too, for its step time.
 *
 * <p>Workloads: the 50-unit tanh RNN on the adding problem (T = 50, batch 20, weights N(0, 0.3²),
 * SGD lr 0.05; lab-tasks.md), and, when Debian's {@code dataset-fashion-mnist} is installed, a
 * 784-256-10 ReLU MLP on Fashion-MNIST (batch 64, SGD lr 0.1). Methods: global norm (c = 1), AGC
 * (λ = 0.01, arXiv:2102.06171) and ZClip (defaults, arXiv:2504.02507), all with the {@code SKIP}
 * policy so a divergent step is skipped instead of ending the measurement.
 *
 * <p>libtorch runs on one intra-op thread unless {@code -Dai.djl.pytorch.num_threads} says
 * otherwise: on two cores shared with other processes, its OpenMP threads wait for each other at
 * every parallel op and a step's time swings by an order of magnitude.
 */
final class TrainingOverhead {

    /** One measured workload and method. */
    record Row(String workload, String method, int steps, double stepMillis, double clipMillis, double share) {
    }

    /** A training step of gradclip-djl's {@code ClippedTrainer}, driven in its three parts. */
    interface Steps extends AutoCloseable {
        /**
         * Forward and backward on batch {@code i}.
         *
         * @param i the batch's number
         * @return the loss
         */
        double forwardBackward(long i);

        /** @return the report of the workload's clipper on the gradients left by backward */
        ClipReport clipGradients();

        /**
         * Applies the update, or skips it when the report says so.
         *
         * @param loss   the step's loss
         * @param report the step's report
         */
        void update(double loss, ClipReport report);

        @Override
        void close();
    }

    /**
     * What the baseline's update is given: it makes no clip call, so the update takes a report that
     * says "not skipped" (measured once, on one zero float, by {@code Clippers.none()}).
     */
    private static final ClipReport UNCLIPPED = Clippers.none().clip(GradientSet.of(new float[1]));

    private TrainingOverhead() {
    }

    /** @return the methods measured, by name ({@code null} for the baseline, which does not clip) */
    static Map<String, Supplier<Clipper>> methods() {
        Map<String, Supplier<Clipper>> m = new LinkedHashMap<>();
        m.put("none", () -> null);
        m.put("global-norm", () -> Clippers.globalNorm(1.0).withNonFinitePolicy(NonFinitePolicy.SKIP));
        m.put("agc", () -> Clippers.agc(0.01).withNonFinitePolicy(NonFinitePolicy.SKIP));
        m.put("zclip", () -> Clippers.zClip().withNonFinitePolicy(NonFinitePolicy.SKIP));
        return m;
    }

    /**
     * Measures every workload and method.
     *
     * @param warmup   untimed steps first (JIT, allocator, ZClip's warm-up)
     * @param steps    timed steps
     * @param progress where to print one line per row
     * @return the rows
     */
    static List<Row> run(int warmup, int steps, PrintWriter progress) {
        setDefault("ai.djl.offline", "true");
        setDefault("ai.djl.pytorch.num_threads", "1");
        setDefault("ai.djl.pytorch.num_interop_threads", "1");
        // the first clipped row would otherwise pay for compiling the vector kernels (run interpreted,
        // hundreds of times slower) inside its timed steps, as no later row does
        JitWarmUp.runDjl();
        for (Supplier<Clipper> m : methods().values()) {
            if (m.get() != null) {
                warmClipPath(m.get());
            }
        }
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, Supplier<Clipper>> m : methods().entrySet()) {
            try (Steps s = rnn(orNone(m.getValue().get()))) {
                rows.add(measure("rnn-adding", m.getKey(), m.getValue().get() != null, s, warmup, steps, progress));
            }
        }
        if (FashionMnist.installed()) {
            for (Map.Entry<String, Supplier<Clipper>> m : methods().entrySet()) {
                try (Steps s = new FashionMnistSteps(orNone(m.getValue().get()))) {
                    rows.add(measure("fashion-mnist-mlp", m.getKey(), m.getValue().get() != null, s, warmup,
                            steps, progress));
                }
            }
        } else {
            progress.println("fashion-mnist: " + FashionMnist.DEFAULT_DIR + " not found (Debian package"
                    + " dataset-fashion-mnist); skipped");
        }
        return rows;
    }

    /** Clip calls per method in {@link #warmClipPath}: past C2's invocation threshold (5,000). */
    private static final int CLIP_WARM_UP_CALLS = 6000;

    /**
     * Compiles the clip path of a training step before any row is timed: {@value #CLIP_WARM_UP_CALLS}
     * clips by {@code clipper} of one backward's gradients of a throwaway RNN workload, each after
     * writing the pristine gradients back, so that every call meets the same unclipped data. Fifty
     * warm-up steps per row are far below the invocation count at which C2 compiles the
     * once-per-step code (the loop's clip call, the gradient handles, the report): without this, the
     * first clipped row timed that code interpreted and in C1 over most of its steps (its clip time
     * fell from 0.06 to 0.016 ms over 8,000 steps).
     */
    private static void warmClipPath(Clipper clipper) {
        RnnWorkload w = rnnWorkload(clipper);
        try {
            w.forwardBackward(w.batch(0));
            List<NDArray> params = new ArrayList<>();
            for (Pair<String, Parameter> p : w.getModel().getBlock().getParameters()) {
                if (p.getValue().requiresGradient()) {
                    params.add(p.getValue().getArray());
                }
            }
            float[][] pristine = new float[params.size()][];
            for (int t = 0; t < pristine.length; t++) {
                try (NDArray g = params.get(t).getGradient()) {
                    pristine[t] = g.toFloatArray();
                }
            }
            for (int i = 0; i < CLIP_WARM_UP_CALLS; i++) {
                for (int t = 0; t < pristine.length; t++) {
                    // written into the gradient's own memory: set(Buffer) would point the tensor at a
                    // direct buffer owned by this short-lived handle, freed by the collector while the
                    // tensor (and the next clip's writes) still use it
                    try (NDArray g = params.get(t).getGradient()) {
                        g.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer().put(pristine[t]);
                    }
                }
                w.clipGradients();
            }
        } finally {
            w.close();
        }
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** The loop's clipper: the method's, or for the baseline one that is never called. */
    private static Clipper orNone(Clipper clipper) {
        return clipper != null ? clipper : Clippers.none();
    }

    private static Row measure(String workload, String method, boolean clips, Steps s, int warmup, int steps,
            PrintWriter progress) {
        long stepNanos = 0;
        long clipNanos = 0;
        for (int i = 0; i < warmup + steps; i++) {
            long t0 = System.nanoTime();
            double loss = s.forwardBackward(i);
            long t1 = System.nanoTime();
            ClipReport report = clips ? s.clipGradients() : UNCLIPPED;
            long t2 = System.nanoTime();
            s.update(loss, report);
            long t3 = System.nanoTime();
            if (i >= warmup) {
                stepNanos += t3 - t0;
                clipNanos += t2 - t1;
            }
        }
        Row row = new Row(workload, method, steps, stepNanos / 1e6 / steps, clipNanos / 1e6 / steps,
                (double) clipNanos / stepNanos);
        progress.printf(Locale.ROOT, "%s %s: step %.3f ms, clipping %.3f ms (%.2f%%)%n", workload, method,
                row.stepMillis(), row.clipMillis(), 100 * row.share());
        progress.flush();
        return row;
    }

    private static Steps rnn(Clipper clipper) {
        RnnWorkload w = rnnWorkload(clipper);
        return new Steps() {
            @Override
            public double forwardBackward(long i) {
                return w.forwardBackward(w.batch(i));
            }

            @Override
            public ClipReport clipGradients() {
                return w.clipGradients();
            }

            @Override
            public void update(double loss, ClipReport report) {
                w.update(loss, report);
            }

            @Override
            public void close() {
                w.close();
            }
        };
    }

    private static RnnWorkload rnnWorkload(Clipper clipper) {
        return RnnWorkload.builder()
                .setTask(SequenceTask.ADDING)
                .optLength(50)
                .optHiddenSize(50)
                .optBatchSize(20)
                .optInit(RnnInit.normal(0.3))
                .optLearningRate(0.05f)
                .optSeed(1)
                .optClipper(clipper)
                .build();
    }
}
