package dev.gradclip.djl.internal;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterServer;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds what DJL keeps inside a {@link Trainer}: the trainable parameters of its block, named and
 * grouped, and, through reflection since DJL does not expose them, its {@link ParameterStore} (the
 * per-device copies) and its optimizer. Not public API.
 */
public final class TrainerParameters {

    private TrainerParameters() {
    }

    /**
     * A trainable parameter with its name (the key of {@link Block#getParameters()}) and group (the
     * path of the block that owns it).
     *
     * @param name      the parameter's name
     * @param group     the owning block's path
     * @param parameter the parameter
     */
    public record Named(String name, String group, Parameter parameter) {
    }

    /**
     * @param block an initialized block
     * @return its trainable parameters in {@link Block#getParameters()} order
     * @throws IllegalStateException if a parameter is not initialized
     */
    public static List<Named> trainable(Block block) {
        List<Named> out = new ArrayList<>();
        collect(block, "", "", out);
        return out;
    }

    private static void collect(Block block, String prefix, String group, List<Named> out) {
        for (Pair<String, Parameter> p : block.getDirectParameters()) {
            Parameter parameter = p.getValue();
            if (!parameter.requiresGradient()) {
                continue;
            }
            if (!parameter.isInitialized()) {
                throw new IllegalStateException("parameter '" + prefix + p.getKey() + "' is not initialized;"
                        + " call trainer.initialize(shapes) before clipping");
            }
            out.add(new Named(prefix + p.getKey(), group.isEmpty() ? p.getKey() : group, parameter));
        }
        for (Pair<String, Block> child : block.getChildren()) {
            String childGroup = prefix + child.getKey();
            collect(child.getValue(), childGroup + "_", childGroup, out);
        }
    }

    /**
     * @param trainer a trainer
     * @return the trainer's parameter store
     * @throws IllegalStateException if DJL's private field cannot be read
     */
    public static ParameterStore parameterStore(Trainer trainer) {
        try {
            return (ParameterStore) field(Trainer.class, "parameterStore").get(trainer);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot reach the per-device parameter copies of this DJL Trainer ("
                    + e + "); build DjlGradients with DjlGradients.builder().addParameter(name, group, copies...)",
                    e);
        }
    }

    /**
     * @param trainer a trainer whose parameter server is DJL's {@code LocalParameterServer}
     * @return the optimizer that updates its parameters
     * @throws IllegalStateException if DJL's private fields cannot be read
     */
    public static Optimizer optimizer(Trainer trainer) {
        try {
            ParameterStore store = (ParameterStore) field(Trainer.class, "parameterStore").get(trainer);
            ParameterServer server = (ParameterServer) field(ParameterStore.class, "parameterServer").get(store);
            return (Optimizer) field(server.getClass(), "optimizer").get(server);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot reach the optimizer of this DJL Trainer (" + e
                    + "); DjlTrainingState needs DJL's LocalParameterServer", e);
        }
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field f = type.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }
}
