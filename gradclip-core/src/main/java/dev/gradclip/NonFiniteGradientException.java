package dev.gradclip;

/**
 * Thrown under {@link NonFinitePolicy#THROW} when a gradient holds NaN or an infinity. The
 * gradients are untouched when it is thrown.
 *
 * <p>It extends {@link ArithmeticException} so that callers of the plain-array facade
 * {@link GradClip} can catch the standard type.
 */
public class NonFiniteGradientException extends ArithmeticException {
    private static final long serialVersionUID = 1L;

    /** @serial the name of the first tensor holding a non-finite value */
    private final String tensorName;
    /** @serial the flat index of the first non-finite element in that tensor */
    private final long elementIndex;
    /** @serial the number of non-finite elements over all tensors */
    private final long nonFiniteCount;
    /** @serial the offending value */
    private final float value;

    /**
     * Creates the exception.
     *
     * @param tensorName     name of the first tensor that holds a non-finite value
     * @param elementIndex   flat (row-major) index of the first non-finite element in that tensor
     * @param value          the offending value (NaN or an infinity)
     * @param nonFiniteCount number of non-finite elements over all tensors
     */
    public NonFiniteGradientException(String tensorName, long elementIndex, float value, long nonFiniteCount) {
        super("non-finite gradient: tensor '" + tensorName + "' element " + elementIndex + " is " + value
                + " (" + nonFiniteCount + " non-finite element" + (nonFiniteCount == 1 ? "" : "s")
                + " in all); gradients left untouched. Lower the learning rate, or choose"
                + " NonFinitePolicy.SKIP or ZERO to handle such steps");
        this.tensorName = tensorName;
        this.elementIndex = elementIndex;
        this.nonFiniteCount = nonFiniteCount;
        this.value = value;
    }

    /** @return the name of the first tensor holding a non-finite value */
    public String tensorName() {
        return tensorName;
    }

    /** @return the flat index of the first non-finite element in {@link #tensorName()} */
    public long elementIndex() {
        return elementIndex;
    }

    /** @return the first non-finite value found (NaN or an infinity) */
    public float value() {
        return value;
    }

    /** @return the number of non-finite elements over all tensors of the step */
    public long nonFiniteCount() {
        return nonFiniteCount;
    }
}
