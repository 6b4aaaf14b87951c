package dev.gradclip.lab.text;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.recurrent.LSTM;

/**
 * A character language model: an LSTM reads characters one-hot and a linear layer predicts each
 * next one from the LSTM's output at that position (trained with softmax cross-entropy; its loss in
 * nats divided by {@code ln 2} is bits per character).
 */
public final class CharLm {

    private CharLm() {
    }

    /**
     * @param hidden     the LSTM's state size
     * @param vocabulary the number of ids, {@link TextCorpus#vocabularySize()}
     * @return the block, uninitialised; input {@code (batch, length, vocabulary)} one-hot, output
     *         {@code (batch · length, vocabulary)} logits
     */
    public static SequentialBlock block(int hidden, int vocabulary) {
        return new SequentialBlock()
                .add(LSTM.builder().setStateSize(hidden).setNumLayers(1).optBatchFirst(true).optReturnState(false)
                        .build())
                .add(new LambdaBlock(x -> new NDList(x.singletonOrThrow().reshape(-1, hidden)), "flatten_time"))
                .add(Linear.builder().setUnits(vocabulary).build());
    }

    /**
     * The inputs and labels of a batch of sequences: each input the character at {@code start + t}
     * one-hot, each label the id of the next character.
     *
     * @param manager the manager that owns the arrays
     * @param corpus  the text
     * @param starts  where each sequence starts, at most {@code ids().length - length - 1}
     * @param length  the characters per sequence
     * @return {@code {inputs (n, length, vocabulary), labels (n · length)}}
     */
    public static NDList[] batch(NDManager manager, TextCorpus corpus, int[] starts, int length) {
        int v = corpus.vocabularySize();
        int n = starts.length;
        float[] x = new float[n * length * v];
        float[] y = new float[n * length];
        int[] ids = corpus.ids();
        for (int b = 0; b < n; b++) {
            for (int t = 0; t < length; t++) {
                x[(b * length + t) * v + ids[starts[b] + t]] = 1f;
                y[b * length + t] = ids[starts[b] + t + 1];
            }
        }
        return new NDList[] {new NDList(manager.create(x, new Shape(n, length, v))),
            new NDList(manager.create(y, new Shape((long) n * length)))};
    }
}
