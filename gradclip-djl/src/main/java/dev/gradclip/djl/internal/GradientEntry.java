package dev.gradclip.djl.internal;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;

/**
 * One tensor of a {@link dev.gradclip.djl.DjlGradients}: the arrays holding its gradient (one per
 * device), and the parameter values. Not public API.
 *
 * @param name            the unique name
 * @param group           the group (layer)
 * @param shape           the shape of every copy
 * @param parameterCopies the parameter arrays whose {@code getGradient()} is the gradient, or null
 * @param gradientCopies  explicit gradient arrays, or null when read from {@code parameterCopies}
 * @param parameter       the parameter values, or null
 * @param source          the DJL parameter of a one-device model, read again at every session so
 *                        that a parameter whose array is replaced (a checkpoint loaded) is followed
 * @param devices         the device of each copy, read once (each read is a native call)
 */
public record GradientEntry(String name, String group, Shape shape, NDArray[] parameterCopies,
        NDArray[] gradientCopies, NDArray parameter, Parameter source, Device[] devices) {

    /** @return how many device copies hold a part of the gradient */
    public int copies() {
        return gradientCopies != null ? gradientCopies.length : parameterCopies.length;
    }

    /**
     * @param i copy number
     * @return the parameter array of copy {@code i}, the source's current array for a model's parameter
     */
    public NDArray parameterCopy(int i) {
        return source != null ? source.getArray() : parameterCopies[i];
    }

    /** @return the parameter values, or null */
    public NDArray parameterValues() {
        return source != null ? source.getArray() : parameter;
    }

    /**
     * @param newSource the DJL parameter to follow
     * @return this entry, reading its parameter array from {@code newSource} at every session
     */
    public GradientEntry following(Parameter newSource) {
        return new GradientEntry(name, group, shape, parameterCopies, null, parameter, newSource, devices);
    }
}
