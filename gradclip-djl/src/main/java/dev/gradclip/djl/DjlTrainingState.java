package dev.gradclip.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;
import dev.gradclip.djl.internal.TrainerParameters;
import dev.gradclip.internal.StateReader;
import dev.gradclip.internal.StateWriter;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Saves and restores everything a DJL {@link Trainer} needs to continue a run bit for bit: the
 * values of every parameter of its model and the state of its optimizer (moments, momentum buffers,
 * per-parameter update counts that drive learning-rate trackers and Adam's bias correction).
 *
 * <p>DJL keeps optimizer state in private maps keyed by each parameter's random id, and offers no way
 * to save it; this class reads those maps through reflection (as {@link DjlGradients#of(Trainer)}
 * reads the parameter store) and keys them by the parameter's name in the block instead, so a state
 * saved in one process restores into a freshly built trainer of the same model in another. Every
 * optimizer field of the kinds DJL's optimizers use is handled ({@code Map<String, Map<Device,
 * NDArray>>} state, {@code Map<String, Integer>} counts, {@code int} counters); an optimizer with a
 * field of another mutable kind is refused with a message rather than restored incompletely.
 * Transient fields are not state and are skipped (the clip factors a {@link GradientScaleFolding}
 * optimizer holds for the step in progress).
 *
 * <p>Parameters are written into the existing arrays ({@link NDArray#set(float[])}), so the trainer's
 * parameter store keeps seeing them. One device only: a trainer with several devices is refused.
 */
public final class DjlTrainingState {

    private static final int MAGIC = 0x444A4C53; // "DJLS"
    private static final int VERSION = 1;
    private static final String KIND = "DJL training";

    private DjlTrainingState() {
    }

    /**
     * Serialises the trainer's parameters and optimizer state.
     *
     * @param trainer an initialized trainer on one device
     * @return the state
     * @throws IllegalStateException if the trainer has several devices, a parameter is not float32,
     *                               or its optimizer holds state this class does not know
     */
    public static byte[] save(Trainer trainer) {
        Objects.requireNonNull(trainer, "trainer");
        checkOneDevice(trainer);
        Map<String, String> idToName = idToName(trainer);
        StateWriter out = StateWriter.withOwnHeader(MAGIC, VERSION);
        List<Pair<String, Parameter>> params = parameters(trainer);
        out.writeInt(params.size());
        for (Pair<String, Parameter> p : params) {
            writeString(out, p.getKey());
            writeArray(out, p.getKey(), p.getValue().getArray());
        }
        Optimizer optimizer = TrainerParameters.optimizer(trainer);
        List<Field> fields = stateFields(optimizer.getClass());
        out.writeInt(fields.size());
        try {
            for (Field f : fields) {
                writeString(out, f.getDeclaringClass().getSimpleName() + "." + f.getName());
                Object value = f.get(optimizer);
                if (f.getType() == int.class) {
                    out.writeByte(0);
                    out.writeInt((Integer) value);
                } else if (isCountMap(f)) {
                    out.writeByte(1);
                    Map<String, Object> counts = byName(idToName, value);
                    out.writeInt(counts.size());
                    for (Map.Entry<String, Object> e : counts.entrySet()) {
                        writeString(out, e.getKey());
                        out.writeInt((Integer) e.getValue());
                    }
                } else {
                    out.writeByte(2);
                    Map<String, Object> state = byName(idToName, value);
                    out.writeInt(state.size());
                    for (Map.Entry<String, Object> e : state.entrySet()) {
                        String name = e.getKey();
                        Map<?, ?> perDevice = (Map<?, ?>) e.getValue();
                        if (perDevice.size() != 1) {
                            throw new IllegalStateException("optimizer state of '" + name + "' is on "
                                    + perDevice.size() + " devices; only one is supported");
                        }
                        writeString(out, name);
                        writeArray(out, name, (NDArray) perDevice.values().iterator().next());
                    }
                }
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read the state of this DJL optimizer: " + e, e);
        }
        return out.toByteArray();
    }

    /**
     * Restores a state saved by {@link #save(Trainer)} into a trainer of the same model and optimizer
     * (built the same way, initialized, possibly in another process). The state is checked whole
     * before anything is written.
     *
     * @param trainer an initialized trainer on one device
     * @param state   the saved state
     * @throws IllegalArgumentException if the state is corrupt or belongs to another model or
     *                                  optimizer (the message names the first difference)
     * @throws IllegalStateException    if the trainer has several devices
     */
    public static void restore(Trainer trainer, byte[] state) {
        Objects.requireNonNull(trainer, "trainer");
        Objects.requireNonNull(state, "state");
        checkOneDevice(trainer);
        StateReader in = StateReader.withOwnHeader(state, MAGIC, KIND, VERSION);
        Map<String, Parameter> byName = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : parameters(trainer)) {
            byName.put(p.getKey(), p.getValue());
        }
        int count = count(in, 8);
        if (count != byName.size()) {
            throw new IllegalArgumentException("state holds " + count + " parameters but the model has "
                    + byName.size());
        }
        Map<Parameter, float[]> values = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            String name = readString(in);
            Parameter p = byName.get(name);
            if (p == null) {
                throw new IllegalArgumentException("state holds parameter '" + name + "', which the model lacks"
                        + " (it has " + byName.keySet() + ")");
            }
            Saved saved = readArray(in, name);
            if (!saved.shape.equals(p.getArray().getShape())) {
                throw new IllegalArgumentException("parameter '" + name + "' has shape " + p.getArray().getShape()
                        + " but the state holds " + saved.shape);
            }
            values.put(p, saved.values);
        }
        Optimizer optimizer = TrainerParameters.optimizer(trainer);
        List<Field> fields = stateFields(optimizer.getClass());
        int fieldCount = count(in, 3);
        if (fieldCount != fields.size()) {
            throw new IllegalArgumentException("state holds " + fieldCount + " optimizer fields but "
                    + optimizer.getClass().getSimpleName() + " has " + fields.size()
                    + ": it was saved with another optimizer");
        }
        Map<Field, Object> restored = new LinkedHashMap<>();
        for (Field f : fields) {
            String label = f.getDeclaringClass().getSimpleName() + "." + f.getName();
            String saved = readString(in);
            if (!saved.equals(label)) {
                throw new IllegalArgumentException("state holds optimizer field " + saved + " where "
                        + label + " was expected: it was saved with another optimizer");
            }
            int kind = in.readByte();
            if (kind == 0 && f.getType() == int.class) {
                restored.put(f, in.readInt());
            } else if (kind == 1 && isCountMap(f)) {
                int n = count(in, 8);
                Map<String, Integer> counts = new HashMap<>();
                for (int i = 0; i < n; i++) {
                    counts.put(idOf(byName, readString(in)), in.readInt());
                }
                restored.put(f, counts);
            } else if (kind == 2 && !isCountMap(f) && f.getType() != int.class) {
                int n = count(in, 8);
                Map<String, Saved> arrays = new HashMap<>();
                for (int i = 0; i < n; i++) {
                    String name = readString(in);
                    arrays.put(idOf(byName, name), readArray(in, name));
                }
                restored.put(f, arrays);
            } else {
                throw new IllegalArgumentException("optimizer field " + label + " was saved as another kind");
            }
        }
        in.finish();

        // everything is read and checked: now write
        for (Map.Entry<Parameter, float[]> e : values.entrySet()) {
            e.getKey().getArray().set(e.getValue());
        }
        NDManager manager = trainer.getManager();
        Device device = trainer.getDevices()[0];
        try {
            for (Map.Entry<Field, Object> e : restored.entrySet()) {
                Field f = e.getKey();
                Object current = f.get(optimizer);
                if (f.getType() == int.class) {
                    f.setInt(optimizer, (Integer) e.getValue());
                } else if (isCountMap(f)) {
                    @SuppressWarnings("unchecked")
                    Map<String, Integer> target = (Map<String, Integer>) current;
                    target.clear();
                    target.putAll(castCounts(e.getValue()));
                } else {
                    @SuppressWarnings("unchecked")
                    Map<String, Map<Device, NDArray>> target = (Map<String, Map<Device, NDArray>>) current;
                    for (Map<Device, NDArray> old : target.values()) {
                        old.values().forEach(NDArray::close);
                    }
                    target.clear();
                    @SuppressWarnings("unchecked")
                    Map<String, Saved> arrays = (Map<String, Saved>) e.getValue();
                    for (Map.Entry<String, Saved> a : arrays.entrySet()) {
                        Parameter p = byIdParameter(byName, a.getKey());
                        NDManager owner = p.getArray().getManager();
                        NDArray array = (owner != null ? owner : manager).create(a.getValue().values,
                                a.getValue().shape).toDevice(device, false);
                        Map<Device, NDArray> perDevice = new java.util.concurrent.ConcurrentHashMap<>();
                        perDevice.put(device, array);
                        target.put(a.getKey(), perDevice);
                    }
                }
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot write the state of this DJL optimizer: " + e, e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Integer> castCounts(Object o) {
        return (Map<String, Integer>) o;
    }

    // ---------------------------------------------------------------------------------------------

    private static void checkOneDevice(Trainer trainer) {
        if (trainer.getDevices().length != 1) {
            throw new IllegalStateException("DjlTrainingState supports trainers on one device; this one has "
                    + trainer.getDevices().length);
        }
    }

    private static List<Pair<String, Parameter>> parameters(Trainer trainer) {
        List<Pair<String, Parameter>> out = new ArrayList<>();
        for (Pair<String, Parameter> p : trainer.getModel().getBlock().getParameters()) {
            if (!p.getValue().isInitialized()) {
                throw new IllegalStateException("parameter '" + p.getKey() + "' is not initialized;"
                        + " call trainer.initialize(shapes) first");
            }
            out.add(p);
        }
        return out;
    }

    private static Map<String, String> idToName(Trainer trainer) {
        Map<String, String> out = new HashMap<>();
        for (Pair<String, Parameter> p : parameters(trainer)) {
            out.put(p.getValue().getId(), p.getKey());
        }
        return out;
    }

    /** A map keyed by parameter id, re-keyed by parameter name and sorted, so equal states save equal bytes. */
    private static Map<String, Object> byName(Map<String, String> idToName, Object map) {
        Map<String, Object> out = new java.util.TreeMap<>();
        if (map != null) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) map).entrySet()) {
                out.put(nameOf(idToName, (String) e.getKey()), e.getValue());
            }
        }
        return out;
    }

    private static String nameOf(Map<String, String> idToName, String id) {
        String name = idToName.get(id);
        if (name == null) {
            throw new IllegalStateException("the optimizer holds state for parameter id " + id
                    + ", which is not in the model");
        }
        return name;
    }

    private static String idOf(Map<String, Parameter> byName, String name) {
        Parameter p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("state holds optimizer state for '" + name
                    + "', which the model lacks");
        }
        return p.getId();
    }

    private static Parameter byIdParameter(Map<String, Parameter> byName, String id) {
        for (Parameter p : byName.values()) {
            if (p.getId().equals(id)) {
                return p;
            }
        }
        throw new IllegalStateException("no parameter with id " + id);
    }

    /**
     * The mutable fields of an optimizer, in a fixed order (superclass first, then by name): int
     * counters, count maps and state maps; final or static fields and the hyperparameters (float,
     * boolean, trackers) are not state.
     */
    private static List<Field> stateFields(Class<?> type) {
        List<Class<?>> chain = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            chain.add(0, c);
        }
        List<Field> out = new ArrayList<>();
        for (Class<?> c : chain) {
            List<Field> own = new ArrayList<>(List.of(c.getDeclaredFields()));
            own.sort(java.util.Comparator.comparing(Field::getName));
            for (Field f : own) {
                // a transient field holds no state of the run (GradientScaleFolding's factors of the step)
                if (Modifier.isStatic(f.getModifiers()) || Modifier.isTransient(f.getModifiers()) || f.isSynthetic()) {
                    continue;
                }
                Class<?> t = f.getType();
                if (t == float.class || t == boolean.class || t == double.class
                        || t.getName().startsWith("ai.djl.training.tracker.")) {
                    continue;
                }
                if (t == int.class || isCountMap(f) || isStateMap(f)) {
                    f.setAccessible(true);
                    out.add(f);
                    continue;
                }
                throw new IllegalStateException("cannot checkpoint optimizer " + type.getSimpleName() + ": field "
                        + c.getSimpleName() + "." + f.getName() + " of type " + f.getGenericType()
                        + " is not a kind DjlTrainingState knows");
            }
        }
        return out;
    }

    private static boolean isCountMap(Field f) {
        return f.getGenericType().getTypeName().equals("java.util.Map<java.lang.String, java.lang.Integer>");
    }

    private static boolean isStateMap(Field f) {
        Type t = f.getGenericType();
        return t instanceof ParameterizedType && t.getTypeName().equals(
                "java.util.Map<java.lang.String, java.util.Map<ai.djl.Device, ai.djl.ndarray.NDArray>>");
    }

    private static void writeString(StateWriter out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    private static void writeArray(StateWriter out, String name, NDArray a) {
        if (a.getDataType() != DataType.FLOAT32) {
            throw new IllegalStateException("array of '" + name + "' is " + a.getDataType()
                    + "; DjlTrainingState saves float32 arrays only");
        }
        long[] shape = a.getShape().getShape();
        out.writeInt(shape.length);
        for (long d : shape) {
            out.writeLong(d);
        }
        out.writeFloats(a.toFloatArray());
    }

    private record Saved(Shape shape, float[] values) {
    }

    /** A count of items of at least {@code minBytesEach} bytes each, never more than the bytes left. */
    private static int count(StateReader in, int minBytesEach) {
        int n = in.readCount(minBytesEach);
        if (n < 0) {
            throw corrupt("count " + n);
        }
        return n;
    }

    private static String readString(StateReader in) {
        return new String(in.readBytes(), StandardCharsets.UTF_8);
    }

    private static Saved readArray(StateReader in, String name) {
        int rank = count(in, 8);
        long[] shape = new long[rank];
        long size = 1;
        for (int i = 0; i < rank; i++) {
            shape[i] = in.readLong();
            if (shape[i] < 0) {
                throw corrupt("array of '" + name + "' has a negative dimension");
            }
            size = Math.multiplyExact(size, shape[i]);
        }
        float[] v = in.readFloats();
        if (v == null || v.length != size) {
            throw corrupt("array of '" + name + "' has " + (v == null ? "no" : String.valueOf(v.length))
                    + " values for shape " + new Shape(shape));
        }
        return new Saved(new Shape(shape), v);
    }

    private static IllegalArgumentException corrupt(String what) {
        return new IllegalArgumentException(KIND + " state is corrupt: " + what);
    }
}
