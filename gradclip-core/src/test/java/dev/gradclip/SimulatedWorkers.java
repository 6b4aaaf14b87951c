package dev.gradclip;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Workers simulated in one process: each runs on its own thread, and an in-process
 * {@link NormExchange} (a barrier around shared slots) connects them. The arrays a worker receives
 * are copies, listed in an order that differs from worker to worker (rotated by the worker's
 * number), so a test also shows that the order of the contributions does not matter.
 */
final class SimulatedWorkers {

    /** What one worker does, given its number and its end of the exchange. */
    @FunctionalInterface
    interface Body<T> {
        T run(int worker, NormExchange exchange) throws Exception;
    }

    /** A worker's result or what it threw. */
    record Outcome<T>(T value, Throwable thrown) {
    }

    private SimulatedWorkers() {
    }

    /** The in-process all-gather of {@code workers} threads. */
    static final class InProcessExchange {
        private final CyclicBarrier barrier;
        private final double[][] slots;
        private long calls;

        InProcessExchange(int workers) {
            this.barrier = new CyclicBarrier(workers);
            this.slots = new double[workers][];
        }

        NormExchange forWorker(int worker) {
            return contribution -> {
                slots[worker] = contribution.clone();
                await(); // every worker has written
                int w = slots.length;
                double[][] all = new double[w][];
                for (int i = 0; i < w; i++) {
                    all[i] = slots[(i + worker) % w].clone();
                }
                if (worker == 0) {
                    calls++;
                }
                await(); // every worker has read, so the slots may be written again
                return all;
            };
        }

        /** @return how many exchanges the workers made together */
        long calls() {
            return calls;
        }

        private void await() {
            try {
                barrier.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                throw new IllegalStateException("a worker did not reach the exchange", e);
            }
        }
    }

    /**
     * Runs the workers to the end and returns each one's outcome, by worker number.
     *
     * @param workers  how many
     * @param exchange their exchange
     * @param body     what each does
     * @return the outcomes
     */
    static <T> List<Outcome<T>> run(int workers, InProcessExchange exchange, Body<T> body) {
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                int worker = w;
                futures.add(pool.submit(() -> body.run(worker, exchange.forWorker(worker))));
            }
            List<Outcome<T>> out = new ArrayList<>();
            for (Future<T> f : futures) {
                try {
                    out.add(new Outcome<>(f.get(60, TimeUnit.SECONDS), null));
                } catch (ExecutionException e) {
                    out.add(new Outcome<>(null, e.getCause()));
                }
            }
            return out;
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("the simulated workers did not finish", e);
        } finally {
            pool.shutdownNow();
        }
    }
}
