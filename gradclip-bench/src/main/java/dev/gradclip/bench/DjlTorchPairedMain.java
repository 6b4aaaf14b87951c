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
            List<TorchRounds.Op> ops = List.of(
                    new TorchRounds.Op(OPS.get(0), true, "norm", torchNorm * 0.5, TorchRounds.norm(torchNorm)),
                    new TorchRounds.Op(OPS.get(1), false, "norm", torchNorm * 2, TorchRounds.norm(torchNorm)));
            peer.threads(1);
            List<TorchPairedMain.Row> rows = TorchRounds.run(ops, rounds, 1, "gradclip-djl",
                    () -> restore(pristine, grads), k -> {
                        ClipReport report = clippers[k].clip(view);
                        view.close();
                        return report;
                    }, peer, torchNorm);
            System.out.print(TorchPairedMain.format(peer.version(), rows));
            System.out.flush();
        }
    }

    private static void restore(float[][] pristine, NDArray[] grads) {
        for (int t = 0; t < grads.length; t++) {
            grads[t].set(FloatBuffer.wrap(pristine[t]));
        }
    }
}
