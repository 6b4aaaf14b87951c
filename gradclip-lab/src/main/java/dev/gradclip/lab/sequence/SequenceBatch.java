package dev.gradclip.lab.sequence;

/**
 * One batch of a Pascanu et al. 2013 sequence task, on the Java heap, batch-first.
 *
 * @param inputs    {@code batchSize · length · channels} values, row-major {@code [batch, time,
 *                  channel]}
 * @param targets   one target per sequence: the value to regress (adding, multiplication) or the
 *                  class index 0–3 as a float (temporal order)
 * @param batchSize the number of sequences
 * @param length    the sequence length {@code l} of this batch
 * @param channels  the number of input channels (2, or 6 for temporal order)
 */
public record SequenceBatch(float[] inputs, float[] targets, int batchSize, int length, int channels) {

    /**
     * @param sequence sequence number
     * @param time     time step
     * @param channel  channel
     * @return the input value
     */
    public float input(int sequence, int time, int channel) {
        return inputs[(sequence * length + time) * channels + channel];
    }
}
