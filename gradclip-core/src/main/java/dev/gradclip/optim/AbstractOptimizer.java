package dev.gradclip.optim;

import dev.gradclip.Schedule;
import dev.gradclip.internal.StateReader;
import dev.gradclip.internal.StateWriter;
import java.util.Objects;

/**
 * The part every optimizer shares: argument checks, lazy state of a fixed number of per-element
 * slots per tensor, the step counter, the learning-rate schedule, and saving and restoring.
 */
abstract class AbstractOptimizer implements Optimizer {

    private static final int STATE_VERSION = 1;

    private final Schedule schedule;
    private long steps;
    /** Per tensor, its length; {@code null} until the first step. */
    private int[] lengths;
    /** Per tensor, per slot, one value per element. */
    private float[][][] slots;

    AbstractOptimizer(Schedule schedule) {
        this.schedule = Objects.requireNonNull(schedule, "schedule");
    }

    /** @return how many per-element state arrays each tensor needs (0 for plain SGD) */
    abstract int slotCount();

    /**
     * Updates one tensor from the gradient {@code c·g}: each element's gradient is the float product
     * {@code c * g[i]}, exactly what scaling the gradient in place by {@code c} first (one float
     * multiplication, as every kernel does) and then updating with {@code c = 1} computes, so a
     * clipper's coefficient costs no pass of its own. With {@code c = 1} the product is {@code g[i]}
     * itself (NaN and the infinities included).
     *
     * @param p     parameters, updated in place
     * @param g     gradients, not modified
     * @param c     the factor on the gradient, 1 for none
     * @param s     the tensor's slots, updated in place
     * @param lr    the learning rate of this step
     * @param t     the number of this step, starting at 1
     */
    abstract void update(float[] p, float[] g, float c, float[][] s, double lr, long t);

    /**
     * Checks a step's arguments and the schedule without changing anything.
     *
     * @param parameters the parameter tensors
     * @param gradients  their gradients
     * @return the learning rate the step would use
     * @throws IllegalArgumentException as {@link #step(float[][], float[][])}
     * @throws IllegalStateException    as {@link #step(float[][], float[][])}
     */
    final double check(float[][] parameters, float[][] gradients) {
        Objects.requireNonNull(parameters, "parameters");
        Objects.requireNonNull(gradients, "gradients");
        if (parameters.length != gradients.length) {
            throw new IllegalArgumentException("got " + parameters.length + " parameter tensors but "
                    + gradients.length + " gradient tensors");
        }
        for (int i = 0; i < parameters.length; i++) {
            if (parameters[i] == null || gradients[i] == null) {
                String which = parameters[i] == null ? "parameters[" : "gradients[";
                throw new NullPointerException(which + i + "] is null");
            }
            if (parameters[i].length != gradients[i].length) {
                throw new IllegalArgumentException("tensor " + i + " has " + parameters[i].length
                        + " parameters but " + gradients[i].length + " gradients");
            }
        }
        if (lengths != null) {
            if (lengths.length != parameters.length) {
                throw new IllegalArgumentException(name() + " state holds " + lengths.length
                        + " tensors but the step passed " + parameters.length + "; use one optimizer per model");
            }
            for (int i = 0; i < lengths.length; i++) {
                if (lengths[i] != parameters[i].length) {
                    throw new IllegalArgumentException("tensor " + i + " has " + parameters[i].length
                            + " values but the " + name() + " state was created for " + lengths[i]);
                }
            }
        }
        double lr = schedule.valueAt(steps);
        if (!(lr >= 0) || lr == Double.POSITIVE_INFINITY) {
            throw new IllegalStateException("the learning-rate schedule gave " + lr + " at step " + steps
                    + "; a learning rate must be finite and >= 0");
        }
        return lr;
    }

    @Override
    public final void step(float[][] parameters, float[][] gradients) {
        step(parameters, gradients, null);
    }

    /**
     * {@link #step(float[][], float[][])} from the gradients {@code coefficients[i]·gradients[i]}, the
     * factor applied inside the update pass (see {@link #update}); the gradient arrays are not
     * modified. The result is bit for bit that of multiplying {@code gradients[i]} in place by the
     * float {@code coefficients[i]} and then stepping.
     *
     * @param parameters   the parameter tensors, updated in place
     * @param gradients    their gradients, not modified
     * @param coefficients one float factor per tensor, or {@code null} for none (all 1)
     * @throws IllegalArgumentException as {@link #step(float[][], float[][])}, or if the number of
     *                                  coefficients is not the number of tensors
     * @throws IllegalStateException    as {@link #step(float[][], float[][])}
     */
    final void step(float[][] parameters, float[][] gradients, float[] coefficients) {
        double lr = check(parameters, gradients);
        if (coefficients != null && coefficients.length != parameters.length) {
            throw new IllegalArgumentException("got " + coefficients.length + " coefficients for "
                    + parameters.length + " tensors");
        }
        if (lengths == null) {
            int n = parameters.length;
            int k = slotCount();
            lengths = new int[n];
            slots = new float[n][k][];
            for (int i = 0; i < n; i++) {
                lengths[i] = parameters[i].length;
                for (int j = 0; j < k; j++) {
                    slots[i][j] = new float[lengths[i]];
                }
            }
        }
        long t = steps + 1;
        for (int i = 0; i < parameters.length; i++) {
            update(parameters[i], gradients[i], coefficients == null ? 1f : coefficients[i], slots[i], lr, t);
        }
        steps = t;
    }

    @Override
    public final long stepCount() {
        return steps;
    }

    @Override
    public final double learningRate() {
        return schedule.valueAt(steps);
    }

    @Override
    public final Schedule schedule() {
        return schedule;
    }

    @Override
    public final void reset() {
        steps = 0;
        lengths = null;
        slots = null;
    }

    @Override
    public final byte[] saveState() {
        StateWriter w = new StateWriter(name(), STATE_VERSION);
        w.writeLong(steps);
        w.writeInt(slotCount());
        w.writeInt(lengths == null ? -1 : lengths.length);
        if (lengths != null) {
            for (int i = 0; i < lengths.length; i++) {
                w.writeInt(lengths[i]);
                for (float[] slot : slots[i]) {
                    w.writeFloats(slot);
                }
            }
        }
        return w.toByteArray();
    }

    @Override
    public final void restoreState(byte[] state) {
        StateReader r = new StateReader(state, name(), STATE_VERSION);
        long newSteps = r.readLong();
        int k = r.readInt();
        if (k != slotCount()) {
            throw new IllegalArgumentException(name() + " state has " + k + " moments per tensor but this "
                    + name() + " keeps " + slotCount() + "; restore into an optimizer with the same settings");
        }
        int n = r.readCount(Integer.BYTES);
        if (n < 0 && newSteps != 0 || newSteps < 0) {
            throw new IllegalArgumentException(name() + " state is corrupt: step count " + newSteps);
        }
        int[] newLengths = n < 0 ? null : new int[n];
        float[][][] newSlots = n < 0 ? null : new float[n][k][];
        for (int i = 0; i < n; i++) {
            newLengths[i] = r.readInt();
            for (int j = 0; j < k; j++) {
                newSlots[i][j] = r.readFloats();
                if (newSlots[i][j] == null || newSlots[i][j].length != newLengths[i]) {
                    throw new IllegalArgumentException(name() + " state is corrupt: tensor " + i + " declares "
                            + newLengths[i] + " values");
                }
            }
        }
        r.finish();
        steps = newSteps;
        lengths = newLengths;
        slots = newSlots;
    }

    static double checkRange(String name, double value, double lowInclusive, double highExclusive) {
        if (!(value >= lowInclusive && value < highExclusive)) {
            throw new IllegalArgumentException(name + " must be in [" + lowInclusive + ", " + highExclusive
                    + "), got " + value);
        }
        return value;
    }

    static double checkNonNegative(String name, double value) {
        if (!(value >= 0) || value == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException(name + " must be finite and >= 0, got " + value);
        }
        return value;
    }

    static double checkPositive(String name, double value) {
        if (!(value > 0) || value == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException(name + " must be finite and positive, got " + value);
        }
        return value;
    }

    static Schedule constantRate(double learningRate) {
        checkNonNegative("learningRate", learningRate);
        return Schedule.constant(learningRate);
    }

    @Override
    public String toString() {
        return name() + "(lr=" + schedule + ", step " + steps + ")";
    }
}
