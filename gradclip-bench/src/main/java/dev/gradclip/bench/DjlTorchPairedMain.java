package dev.gradclip.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.Clippers;
import dev.gradclip.djl.DjlGradients;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Locale;

/**
 * One forked JVM of the bench command's gradclip-djl / PyTorch comparison: gradclip-djl's
 * {@link DjlGradients} global-norm clip on DJL NDArrays (PyTorch engine, CPU, libtorch on one
 * thread; the view built once and closed after every step, as a training loop uses it) alternates,
 * round by round, with the PyTorch peer's {@code clip_grad_norm_(foreach=True)} on one torch thread,
 * on tensors of the same sizes ({@code [rows, 1024]}, uniform in [-1, 1)), over the threshold (max
 * norm = norm / 2) and under it (2 x norm). Every call follows an untimed restore of the gradients
 * on both sides; the side that goes first changes every round.
 *
 * <p>Arguments: {@code floats tensors rounds python}; output as {@link TorchPairedMain}'s, with the
 * ops {@link #OPS}.
 */
public final class DjlTorchPairedMain {

    /** The ops, as printed: gradclip-djl's global-norm clip over the threshold and under it. */
    static final List<String> OPS = List.of("djl_clip_grad_norm", "djl_clip_grad_norm_under");

    private DjlTorchPairedMain() {
    }

    /**
     * @param args {@code floats tensors rounds python}
     * @throws IOException if the peer fails
     */
    public static void main(String[] args) throws IOException {
        int floats = Integer.parseInt(args[0]);
        int tensors = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        try (NDManager manager = NDManager.newBaseManager(); TorchPeer peer = TorchPeer.start(args[3])) {
            JitWarmUp.runDjl();
            float[][] pristine = Workloads.uniform(Workloads.split(floats, tensors), ClipData.GRADIENT_SEED);
            NDArray[] grads = DjlClipBenchmark.create(manager, pristine);
            DjlGradients view = DjlClipBenchmark.view(grads);
            double norm = Clippers.globalNorm(Double.MAX_VALUE).clip(view).normBefore();
            view.close();
            Clipper[] clippers = {Clippers.globalNorm(norm * 0.5), Clippers.globalNorm(norm * 2)};
            double torchNorm = peer.setup(floats, tensors);
            double[] maxNorms = {torchNorm * 0.5, torchNorm * 2};
            peer.threads(1);
            double[][] gc = new double[OPS.size()][rounds];
            double[][] pt = new double[OPS.size()][rounds];
            for (int r = -2; r < rounds; r++) { // two untimed rounds first: page and cache first touches
                for (int k = 0; k < OPS.size(); k++) {
                    for (int side = 0; side < 2; side++) {
                        if ((side + r + k) % 2 == 0) {
                            restore(pristine, grads);
                            long t0 = System.nanoTime();
                            ClipReport report = clippers[k].clip(view);
                            view.close();
                            long t1 = System.nanoTime();
                            if (report.clipped() != (k == 0)) {
                                throw new IllegalStateException(OPS.get(k) + ": gradclip-djl clipped="
                                        + report.clipped());
                            }
                            if (r >= 0) {
                                gc[k][r] = (t1 - t0) / 1e6;
                            }
                        } else {
                            double[] reply = peer.round("norm", maxNorms[k]);
                            // torch sums a tensor's squares in float32: 0.4% off at 64M floats in one tensor
                            if (Math.abs(reply[1] - torchNorm) > 1e-2 * torchNorm) {
                                throw new IOException(OPS.get(k) + ": the PyTorch peer's total norm " + reply[1]
                                        + " is off (" + torchNorm + ")");
                            }
                            if (r >= 0) {
                                pt[k][r] = reply[0] / 1e6;
                            }
                        }
                    }
                }
            }
            StringBuilder out = new StringBuilder("torch " + peer.version() + "\n");
            for (int k = 0; k < OPS.size(); k++) {
                double[] g = TorchPairedMain.bestAndMedian(gc[k]);
                double[] p = TorchPairedMain.bestAndMedian(pt[k]);
                out.append(String.format(Locale.ROOT, "%s %d %.6f %.6f %.6f %.6f%n", OPS.get(k), 1, g[0], g[1],
                        p[0], p[1]));
            }
            System.out.print(out);
            System.out.flush();
        }
    }

    private static void restore(float[][] pristine, NDArray[] grads) {
        for (int t = 0; t < grads.length; t++) {
            grads[t].set(FloatBuffer.wrap(pristine[t]));
        }
    }
}
