package dev.gradclip.djl.internal;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.List;

/**
 * The native handles a {@link dev.gradclip.djl.DjlGradients} holds between {@code close()} calls (a
 * session), and the host views over them with their validity.
 *
 * <p>DJL's {@code getGradient()} makes a new handle each call, so the gradient handles are fetched
 * once per session and owned by one sub-manager, closed by {@link #close()} (or by a
 * {@link Cleaner} when the view is dropped unclosed). Sums of several device copies, scratch
 * managers for one call, and the reduction of copies into the first live here too.
 *
 * <p>A host view ({@link HostReads.View}) of a tensor is fetched at its first host read in a session
 * and used only while it is valid: the array it was taken from is still the tensor's handle, is not
 * closed and still holds the same native tensor (DJL's {@code intern} replaces it); otherwise it is
 * fetched again, and an array closed by its owner makes DJL throw {@link IllegalStateException}
 * rather than be read. {@link #written(int)} drops a tensor's view after an NDArray write, since a
 * non-contiguous gradient is read through a copy that the write would not reach. Not public API.
 */
public final class GradientHandles implements AutoCloseable {

    /** Closes the handles of views that were dropped without {@link #close()}. */
    private static final Cleaner CLEANER = Cleaner.create();

    private final GradientEntry[] entries;
    private final boolean[] reduced;
    private final NDArray[][] handles;
    /** Per tensor: whether its gradient is read in place on the host. */
    private final boolean[] hostRead;
    private final HostReads.View[] hostViews;
    private final Session session = new Session();

    /** The session's manager, kept apart from the handles so that the cleaner can run. */
    private static final class Session implements Runnable {
        private NDManager manager;

        @Override
        public void run() {
            NDManager m = manager;
            manager = null;
            if (m != null) {
                m.close();
            }
        }
    }

    /**
     * @param entries   the tensors
     * @param hostReads whether tensors on the PyTorch engine's CPU may be read in place on the host
     */
    public GradientHandles(List<GradientEntry> entries, boolean hostReads) {
        this.entries = entries.toArray(new GradientEntry[0]);
        int n = this.entries.length;
        this.reduced = new boolean[n];
        this.handles = new NDArray[n][];
        this.hostRead = new boolean[n];
        this.hostViews = new HostReads.View[n];
        for (int t = 0; t < n; t++) {
            GradientEntry e = this.entries[t];
            long size = e.shape().size();
            hostRead[t] = hostReads && e.copies() == 1 && size > 0 && size <= HostReads.MAX_ELEMENTS
                    && HostReads.onHostMemory(e.devices()[0], anchor(t));
        }
        CLEANER.register(this, session);
    }

    /** @return the number of tensors */
    public int count() {
        return entries.length;
    }

    /**
     * @param tensor tensor number
     * @return its entry
     */
    public GradientEntry entry(int tensor) {
        return entries[tensor];
    }

    /**
     * @param tensor tensor number
     * @return whether its gradient is read in place on the host
     */
    public boolean hostRead(int tensor) {
        return hostRead[tensor];
    }

    /**
     * The valid host view over a host-read tensor's gradient, fetched again when the last one is
     * stale (see the class comment).
     *
     * @param tensor a tensor with {@link #hostRead(int)}
     * @return the view
     * @throws IllegalStateException if the gradient array was closed by its owner
     */
    public HostReads.View hostView(int tensor) {
        HostReads.View view = hostViews[tensor];
        NDArray array = handles(tensor)[0];
        if (view == null || !view.validFor(array)) {
            view = HostReads.View.of(array);
            hostViews[tensor] = view;
        }
        return view;
    }

    /**
     * Marks a tensor's gradient as written with an NDArray operation: its host view is fetched again
     * at the next read.
     *
     * @param tensor tensor number
     */
    public void written(int tensor) {
        hostViews[tensor] = null;
    }

    /**
     * Releases the native handles of this session (gradient handles, cached scalars); the next use
     * fetches them again.
     */
    @Override
    public void close() {
        session.run();
        Arrays.fill(handles, null);
        Arrays.fill(hostViews, null);
        Arrays.fill(reduced, false);
    }

    /** @return the session's manager, made on first use */
    public NDManager sessionManager() {
        if (session.manager == null || !session.manager.isOpen()) {
            session.manager = anchor(0).getManager().newSubManager(sessionDevice());
        }
        return session.manager;
    }

    /** @return the device of the session's arrays (factors, results): the first tensor's first copy's */
    public Device sessionDevice() {
        return entries[0].devices()[0];
    }

    private NDArray anchor(int tensor) {
        GradientEntry e = entries[tensor];
        return e.gradientCopies() != null ? e.gradientCopies()[0] : e.parameterCopy(0);
    }

    /**
     * The gradient arrays of every copy: the arrays given, or handles from DJL's
     * {@code getGradient()}, fetched once per session and owned by the session's manager.
     *
     * @param tensor tensor number
     * @return one array per copy
     */
    public NDArray[] handles(int tensor) {
        NDArray[] h = handles[tensor];
        if (h == null) {
            GradientEntry e = entries[tensor];
            if (e.gradientCopies() != null) {
                h = e.gradientCopies();
            } else {
                NDManager m = sessionManager();
                h = new NDArray[e.parameterCopies().length];
                for (int i = 0; i < h.length; i++) {
                    h[i] = e.parameterCopy(i).getGradient();
                    h[i].attach(m);
                }
            }
            handles[tensor] = h;
        }
        return h;
    }

    /**
     * @param tensor tensor number
     * @return the summed gradient as a new array when there are unreduced copies, else the one handle
     *         (pass it to {@link #closeIfTemporary})
     */
    public NDArray summedOrHandle(int tensor) {
        NDArray[] copies = handles(tensor);
        if (copies.length == 1 || reduced[tensor]) {
            return copies[0];
        }
        Device d = entries[tensor].devices()[0];
        NDArray sum = null;
        for (int i = 1; i < copies.length; i++) {
            NDArray other = copies[i].toDevice(d, false);
            try {
                NDArray next = (sum == null ? copies[0] : sum).add(other);
                if (sum != null) {
                    sum.close();
                }
                sum = next;
            } finally {
                if (other != copies[i]) {
                    other.close();
                }
            }
        }
        return sum;
    }

    /**
     * @param tensor tensor number
     * @param array  what {@link #summedOrHandle} returned
     */
    public void closeIfTemporary(int tensor, NDArray array) {
        if (array != handles(tensor)[0]) {
            array.close();
        }
    }

    /**
     * @param tensor tensor number
     * @return a manager for one call of a less frequent primitive; everything made in it closes with it
     */
    public NDManager scratch(int tensor) {
        return sessionManager().newSubManager(entries[tensor].devices()[0]);
    }

    /**
     * The gradient arrays of every copy, attached to {@code sub} for the call, so that the results of
     * operations on them land in {@code sub}; they return to their managers when {@code sub} closes.
     *
     * @param tensor tensor number
     * @param sub    a scratch manager
     * @return one array per copy
     */
    public NDArray[] gradientCopies(int tensor, NDManager sub) {
        NDArray[] h = handles(tensor);
        for (NDArray a : h) {
            a.tempAttach(sub);
        }
        return h;
    }

    /**
     * @param tensor tensor number
     * @param sub    a scratch manager
     * @return the gradient as the optimizer will see it: the sum of the copies, on the first copy's device
     */
    public NDArray summedGradient(int tensor, NDManager sub) {
        NDArray[] copies = gradientCopies(tensor, sub);
        if (copies.length == 1 || reduced[tensor]) {
            return copies[0];
        }
        NDArray sum = copies[0].add(copies[1].toDevice(copies[0].getDevice(), false));
        for (int i = 2; i < copies.length; i++) {
            sum = sum.add(copies[i].toDevice(copies[0].getDevice(), false));
        }
        return sum;
    }

    /**
     * Moves the sum of all copies into the first copy and zeroes the others.
     *
     * @param tensor tensor number
     * @param sub    a scratch manager
     * @return the first copy
     */
    public NDArray reducedGradient(int tensor, NDManager sub) {
        NDArray[] copies = gradientCopies(tensor, sub);
        if (copies.length > 1 && !reduced[tensor]) {
            for (int i = 1; i < copies.length; i++) {
                copies[0].addi(copies[i].toDevice(copies[0].getDevice(), false));
                zero(copies[i]);
            }
            reduced[tensor] = true;
        }
        return copies[0];
    }

    /**
     * Writes true zeros into an array (multiplying by 0 would keep NaN and turn ∞ into NaN).
     *
     * @param g the array
     */
    public static void zero(NDArray g) {
        if (g.size() == 0) {
            return;
        }
        g.set(g.getManager().ones(g.getShape(), DataType.BOOLEAN, g.getDevice()), 0f);
    }
}
