package dev.gradclip.lab.fashion;

import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;

/**
 * The plain multilayer perceptron that classifies Fashion-MNIST: {@code 784 → H₁ → … → Hₖ → 10},
 * ReLU after every hidden layer, no normalisation (a network where updates explode at a large
 * learning rate, which clipping, and AGC in particular, keeps in check).
 */
public final class Mlp {

    private Mlp() {
    }

    /**
     * @param hidden the widths of the hidden layers, in order (the command uses two of {@code --hidden}
     *               units; the training-overhead benchmark one of 256)
     * @return the block, uninitialised; its input is {@code (batch, 784)} pixels in [0, 1], its output
     *         the 10 classes' logits
     */
    public static SequentialBlock block(int... hidden) {
        SequentialBlock net = new SequentialBlock();
        for (int h : hidden) {
            net.add(Linear.builder().setUnits(h).build()).add(Activation::relu);
        }
        return net.add(Linear.builder().setUnits(FashionMnist.CLASSES).build());
    }
}
