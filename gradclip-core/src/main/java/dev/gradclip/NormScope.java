package dev.gradclip;

/**
 * Over which gradients a norm-based clipper measures the norm and applies one coefficient.
 */
public enum NormScope {
    /**
     * One norm over all tensors, one coefficient for all: the method of Pascanu et al. 2013 ("On the
     * difficulty of training recurrent neural networks", arXiv:1211.5063, Algorithm 1), PyTorch's
     * {@code clip_grad_norm_}, TensorFlow's {@code clip_by_global_norm}, Optax's
     * {@code clip_by_global_norm}.
     */
    GLOBAL,
    /**
     * One norm and coefficient per group (layer) of tensors, as DL4J's
     * {@code GradientNormalization.ClipL2PerLayer}.
     */
    GROUP,
    /**
     * One norm and coefficient per tensor, as Keras {@code clipnorm}, TensorFlow {@code clip_by_norm}
     * and DL4J's {@code ClipL2PerParamType}.
     */
    TENSOR
}
