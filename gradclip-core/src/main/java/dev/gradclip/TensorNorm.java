package dev.gradclip;

/**
 * The norm of one gradient tensor before clipping, used for attribution in a {@link ClipReport}.
 *
 * @param name  the tensor's name
 * @param index the tensor's position in its {@link Gradients}
 * @param norm  the tensor's norm before clipping, in the clipper's norm type (NaN or infinite when
 *              the tensor holds such values)
 */
public record TensorNorm(String name, int index, double norm) {
}
