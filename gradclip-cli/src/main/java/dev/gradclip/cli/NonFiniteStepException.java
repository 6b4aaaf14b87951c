package dev.gradclip.cli;

import dev.gradclip.NonFiniteGradientException;
import dev.gradclip.cli.run.RunResult;

/**
 * Training met a non-finite gradient under {@code +throw-nonfinite}: the command exits with
 * {@link ExitCode#NON_FINITE} and a message naming the step and the tensor.
 */
public class NonFiniteStepException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long step;
    private final String tensorName;
    private final transient RunResult result;

    /**
     * @param run   the run's name
     * @param step  the step (1-based) whose gradients held the value
     * @param cause the clipper's exception, which names the tensor and element
     */
    public NonFiniteStepException(String run, long step, NonFiniteGradientException cause) {
        super("run '" + run + "' step " + step + ": non-finite gradient in tensor '" + cause.tensorName()
                + "' (element " + cause.elementIndex() + " is " + cause.value() + ", " + cause.nonFiniteCount()
                + " non-finite in all); choose +skip-nonfinite or +zero-nonfinite, clip, or lower the"
                + " learning rate", cause);
        this.step = step;
        this.tensorName = cause.tensorName();
        this.result = null;
    }

    /**
     * The same failure, with the outcome of the run up to it (written to its summary).
     *
     * @param failure the failure
     * @param result  the run's outcome
     */
    public NonFiniteStepException(NonFiniteStepException failure, RunResult result) {
        super(failure.getMessage(), failure.getCause());
        this.step = failure.step;
        this.tensorName = failure.tensorName;
        this.result = result;
    }

    /** @return the run's outcome up to the failure, or {@code null} when not known */
    public RunResult result() {
        return result;
    }

    /** @return the step (1-based) whose gradients held the non-finite value */
    public long step() {
        return step;
    }

    /** @return the name of the first tensor holding it */
    public String tensorName() {
        return tensorName;
    }
}
