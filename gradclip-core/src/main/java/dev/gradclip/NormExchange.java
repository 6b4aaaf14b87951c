package dev.gradclip;

/**
 * The one collective a {@linkplain Clippers#sharded(Clipper, NormExchange) sharded clipper} needs:
 * every worker hands in its own measurement of one step and receives the measurements of all
 * workers, its own included (an all-gather).
 *
 * <p>Implement it over whatever connects the workers (MPI, a Spark barrier stage's
 * {@code allGather}, sockets, threads in one process). The contract:
 * <ul>
 *   <li>every worker of the job calls {@link #allGather(double[])} the same number of times, in the
 *       same order: a sharded clipper calls it once per {@link Clipper#clip clip}, and a second time
 *       on a step that met NaN or infinite gradients under {@link NonFinitePolicy#ZERO} (the
 *       decision to do so is taken from the exchanged values, so every worker takes it);</li>
 *   <li>the result holds each worker's array exactly as it was handed in, bit for bit (a
 *       {@code double[]} serialised as 8 bytes per element, or {@link Double#doubleToRawLongBits});
 *       the order of the workers in the result does not matter, since every array says which
 *       tensors it covers.</li>
 * </ul>
 *
 * <p>The array is opaque to the exchange. Today it is {@code 5 + 2k} doubles for a worker holding
 * {@code k} tensors: a header (the number of tensors, then the count, global tensor index, element
 * index and value of the worker's non-finite gradients, or zeros and -1), the global indices of the
 * worker's tensors, and their norms. A step exchanges {@code 8·(5 + 2k)} bytes per worker, so
 * {@code 8·(5·W + 2·N)} bytes in all for {@code W} workers and {@code N} tensors, whatever the
 * tensors' sizes.
 *
 * <p>Data-parallel training, where every worker holds the whole gradient after an all-reduce of the
 * gradients, needs no exchange of norms: every worker clips its identical copy with a plain clipper
 * and gets the identical result. The exchange is for gradients <em>sharded</em> over workers (each
 * tensor held whole by one worker, as with sharded optimizer state or pipeline stages).
 */
@FunctionalInterface
public interface NormExchange {

    /**
     * Hands this worker's measurement to every worker and returns all workers' measurements.
     *
     * @param contribution this worker's measurement; the exchange must not change it
     * @return one array per worker, this worker's included, each bit for bit as that worker handed it
     *         in, in any order
     */
    double[][] allGather(double[] contribution);
}
