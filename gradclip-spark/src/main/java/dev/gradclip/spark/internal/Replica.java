package dev.gradclip.spark.internal;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;
import dev.gradclip.djl.DjlGradients;
import dev.gradclip.spark.ShardBatch;
import dev.gradclip.spark.ShardModel;
import java.util.ArrayList;
import java.util.List;

/**
 * One copy of a {@link ShardModel} in one JVM: its block, initialised once, into which each call
 * writes the driver's parameters before computing the gradient of a shard. Not thread-safe: {@link
 * ExecutorModels} lends each replica to one task at a time.
 */
public final class Replica implements AutoCloseable {

    /**
     * DJL's PyTorch engine allows one gradient collector at a time in a JVM ("A PtGradientCollector is
     * already collecting"), so concurrent tasks of an executor (the threads of {@code local[N]}, an
     * executor with several cores) take turns for forward and backward.
     */
    private static final Object COLLECTING = new Object();

    private final NDManager manager;
    private final Block block;
    private final Loss loss;
    private final List<Parameter> parameters;
    private final List<String> names;
    private final DjlGradients gradients;

    /**
     * Builds and initialises the model's block.
     *
     * @param model the model
     */
    public Replica(ShardModel model) {
        manager = NDManager.newBaseManager();
        try {
            block = model.newBlock();
            block.initialize(manager, DataType.FLOAT32, new Shape(1).addAll(model.exampleShape()));
            loss = model.newLoss();
            parameters = new ArrayList<>(block.getParameters().values());
            // the paths in the block ("01Linear_weight"): a parameter's own name repeats across layers
            names = List.copyOf(block.getParameters().keys());
            gradients = DjlGradients.of(block);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** @return the parameters' names, in the order of every {@code float[][]} exchanged */
    public List<String> names() {
        return names;
    }

    /** @return the parameters' shapes, in the same order */
    public List<long[]> shapes() {
        List<long[]> shapes = new ArrayList<>();
        for (Parameter p : parameters) {
            shapes.add(p.getArray().getShape().getShape());
        }
        return shapes;
    }

    /** @return the parameters' current values, copied */
    public float[][] parameterValues() {
        float[][] out = new float[parameters.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = parameters.get(i).getArray().toFloatArray();
        }
        return out;
    }

    /**
     * The gradient of the model's loss on {@code shard} at {@code values}, by DJL's forward and
     * backward in training mode.
     *
     * @param values the parameters, in {@link #names()} order
     * @param shard  the examples
     * @param index  the shard's index, echoed in the result
     * @return the shard's mean-loss gradient, loss and example count
     */
    public ShardGradient gradient(float[][] values, ShardBatch shard, int index) {
        if (values.length != parameters.size()) {
            throw new IllegalArgumentException("got " + values.length + " parameter tensors for a model with "
                    + parameters.size());
        }
        for (int i = 0; i < values.length; i++) {
            parameters.get(i).getArray().set(values[i]);
        }
        try (NDManager step = manager.newSubManager()) {
            NDArray x = step.create(shard.inputs(), new Shape(shard.inputShape()));
            NDArray y = step.create(shard.labels(), new Shape(shard.labelShape()));
            double lossValue;
            synchronized (COLLECTING) {
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDList predictions = block.forward(new ParameterStore(step, false), new NDList(x), true);
                    NDArray value = loss.evaluate(new NDList(y), predictions);
                    collector.backward(value);
                    lossValue = value.toType(DataType.FLOAT64, false).getDouble();
                }
            }
            float[][] g = new float[parameters.size()][];
            for (int i = 0; i < g.length; i++) {
                NDArray grad = parameters.get(i).getArray().getGradient();
                grad.attach(step);
                g[i] = grad.toFloatArray();
            }
            // DJL's PyTorch engine adds each backward into the gradients: clear them for the next step
            gradients.zeroGradients();
            gradients.close();
            return new ShardGradient(index, shard.examples(), lossValue, g);
        }
    }

    @Override
    public void close() {
        gradients.close();
        manager.close();
    }
}
