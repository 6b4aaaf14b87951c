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
 * <p>DJL's {@code getGradient()} makes a new handle (and a Java wrapper registered with a manager)
 * each call, which costs more than measuring the six small tensors of an RNN. So the handle of a
 * gradient that is shown to be the tensor's own ({@link HostReads#sameMemory}: a second
 * {@code getGradient()} exposes the same host memory; a gradient not yet made by a backward pass
 * is a new array of zeros each time, and fails this) is <em>kept</em> across sessions in a
 * long-lived sub-manager (its host view is not), and used again only while still valid: the parameter array it was
 * fetched from is still the parameter's, open, holding the same native tensor, and the handle
 * itself is open and unchanged (see {@link #handles(int)}); otherwise it is closed and fetched
 * again. PyTorch accumulates a defined gradient in place and DJL zeroes it in place, so the
 * gradient tensor of a parameter stays the same across steps. Other handles are fetched once per
 * session, owned by the session's sub-manager, closed by {@link #close()}. Both managers are
 * closed by a {@link Cleaner} when the view is dropped, and with the model's manager, their parent.
 * Sums of several device copies, scratch managers for one call, and the reduction of copies into
 * the first live here too.
 *
 * <p>A host view ({@link HostReads.View}) of a tensor is fetched at its first host read in a session
 * (never kept across sessions, since DJL's {@code set(Buffer)} moves a tensor's storage under the
 * same native handle) and used only while it is valid: the array it was taken from is still the tensor's handle, is not
 * closed and still holds the same native tensor (DJL's {@code intern} replaces it); otherwise it is
 * fetched again, and an array closed by its owner makes DJL throw {@link IllegalStateException}
 * rather than be read. {@link #written(int)} drops a tensor's view after an NDArray write, since a
 * non-contiguous gradient is read through a copy that the write would not reach. The parameter
 * values of a host-read tensor (AGC's unit norms read them at every step) get a view of their own
 * ({@link #parameterView(int)}) under the same rules: fetched at the first read in a session, used
 * while the tensor's parameter array is the same, open and holding the same native tensor, and
 * forgotten by {@link #close()}. Not public API.
 */
public final class GradientHandles implements AutoCloseable {

    /** Closes the handles of views that were dropped without {@link #close()}. */
    private static final Cleaner CLEANER = Cleaner.create();

    private final GradientEntry[] entries;
    private final boolean[] reduced;
    private final NDArray[][] handles;
    /** Per tensor: whether its handles are kept across sessions (checked to be the tensor's own). */
    private final boolean[] kept;
    /** Per kept tensor: the parameter arrays the handles were fetched from, and their native handles. */
    private final NDArray[][] fetchedFrom;
    private final Object[][] fetchedFromHandle;
    /** Per kept tensor: the native handles of the gradient handles when fetched. */
    private final Object[][] handleHandle;
    /** Per tensor: whether its kept handles were checked in this session. */
    private final boolean[] checked;
    /** Per tensor: whether its gradient is read in place on the host. */
    private final boolean[] hostRead;
    private final HostReads.View[] hostViews;
    /** Per tensor: the host view of its parameter values in this session, or null. */
    private final HostReads.View[] parameterViews;
    private final Session session = new Session();

    /**
     * The session's manager and the manager of kept handles, kept apart from the handles so that the
     * cleaner can run.
     */
    private static final class Session implements Runnable {
        private NDManager manager;
        private NDManager keptManager;

        /** Closes the session's manager. */
        void end() {
            NDManager m = manager;
            manager = null;
            if (m != null) {
                m.close();
            }
        }

        @Override
        public void run() {
            end();
            NDManager k = keptManager;
            keptManager = null;
            if (k != null) {
                k.close();
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
        this.kept = new boolean[n];
        this.fetchedFrom = new NDArray[n][];
        this.fetchedFromHandle = new Object[n][];
        this.handleHandle = new Object[n][];
        this.checked = new boolean[n];
        this.hostRead = new boolean[n];
        this.hostViews = new HostReads.View[n];
        this.parameterViews = new HostReads.View[n];
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
     * The valid host view over a host-read tensor's parameter values, fetched at the first call in a
     * session and again when the last one is stale (the parameter array replaced, closed, or holding
     * another native tensor; see the class comment), or null when the values are not {@code float32}
     * in the PyTorch engine's CPU memory (they are then read with NDArray operations).
     *
     * @param tensor a tensor with {@link #hostRead(int)} and parameter values
     * @return the view, or null
     * @throws IllegalStateException if the parameter array was closed by its owner
     */
    public HostReads.View parameterView(int tensor) {
        NDArray values = entries[tensor].parameterValues();
        HostReads.View view = parameterViews[tensor];
        if (view != null && view.validFor(values)) {
            return view;
        }
        parameterViews[tensor] = null;
        if (values.getDataType() != DataType.FLOAT32 || !HostReads.onHostMemory(values.getDevice(), values)) {
            return null;
        }
        view = HostReads.View.of(values);
        parameterViews[tensor] = view;
        return view;
    }

    /**
     * Marks a tensor's gradient as written with an NDArray operation: its host view, and that of its
     * parameter values, are fetched again at the next read.
     *
     * @param tensor tensor number
     */
    public void written(int tensor) {
        hostViews[tensor] = null;
        // the parameter values may be the gradient array itself (addGradient(name, group, g, g))
        parameterViews[tensor] = null;
    }

    /**
     * Ends the session: releases its native handles (cached scalars, gradient handles that are not
     * kept) and forgets every host view, of gradients and of parameter values; kept handles stay, to
     * be checked at their next use.
     */
    @Override
    public void close() {
        session.end();
        for (int t = 0; t < handles.length; t++) {
            if (!kept[t]) {
                handles[t] = null;
            }
        }
        // a view is never kept across sessions: NDArray.set(Buffer) re-points a tensor's storage
        // under the same native handle, which no check short of a new buffer would see
        Arrays.fill(hostViews, null);
        Arrays.fill(parameterViews, null);
        Arrays.fill(checked, false);
        Arrays.fill(reduced, false);
    }

    /**
     * @param tensor tensor number
     * @return whether its gradient handles are kept across sessions
     */
    public boolean kept(int tensor) {
        return kept[tensor];
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
     * {@code getGradient()}: kept ones while still valid (the parameter array they came from is
     * still the parameter's, open, with the same native tensor, and each handle is open with its
     * native tensor unchanged), else fetched again, owned by the session's manager or, when shown to
     * be the tensor's own, kept.
     *
     * @param tensor tensor number
     * @return one array per copy
     */
    public NDArray[] handles(int tensor) {
        NDArray[] h = handles[tensor];
        if (h != null && kept[tensor] && !checked[tensor]) {
            if (!stillValid(tensor)) {
                dropKept(tensor);
                h = null;
            } else {
                checked[tensor] = true;
            }
        }
        if (h == null) {
            h = fetch(tensor);
            handles[tensor] = h;
        }
        return h;
    }

    private NDArray[] fetch(int tensor) {
        GradientEntry e = entries[tensor];
        if (e.gradientCopies() != null) {
            return e.gradientCopies();
        }
        int n = e.parameterCopies().length;
        NDArray[] from = new NDArray[n];
        NDArray[] h = new NDArray[n];
        for (int i = 0; i < n; i++) {
            from[i] = e.parameterCopy(i);
            h[i] = from[i].getGradient();
        }
        if (hostRead[tensor]) {
            // tried at every fetch: a gradient not yet made by backward fails, and passes later
            try (NDArray second = from[0].getGradient()) {
                kept[tensor] = HostReads.sameMemory(h[0], second);
            }
        }
        NDManager m = kept[tensor] ? keptManager() : sessionManager();
        for (NDArray a : h) {
            a.attach(m);
        }
        if (kept[tensor]) {
            fetchedFrom[tensor] = from;
            fetchedFromHandle[tensor] = new Object[n];
            handleHandle[tensor] = new Object[n];
            for (int i = 0; i < n; i++) {
                fetchedFromHandle[tensor][i] = HostReads.handleOf(from[i]);
                handleHandle[tensor][i] = HostReads.handleOf(h[i]);
            }
            checked[tensor] = true;
        }
        return h;
    }

    private boolean stillValid(int tensor) {
        GradientEntry e = entries[tensor];
        NDArray[] h = handles[tensor];
        for (int i = 0; i < h.length; i++) {
            NDArray p = e.parameterCopy(i);
            if (p != fetchedFrom[tensor][i] || p.isReleased()
                    || HostReads.handleOf(p) != fetchedFromHandle[tensor][i]
                    || h[i].isReleased() || HostReads.handleOf(h[i]) != handleHandle[tensor][i]) {
                return false;
            }
        }
        return true;
    }

    /** Closes a tensor's kept handles that are no longer its gradient, so that they are fetched again. */
    private void dropKept(int tensor) {
        for (NDArray a : handles[tensor]) {
            if (!a.isReleased()) {
                a.close();
            }
        }
        handles[tensor] = null;
        hostViews[tensor] = null;
        fetchedFrom[tensor] = null;
        fetchedFromHandle[tensor] = null;
        handleHandle[tensor] = null;
        kept[tensor] = false;
    }

    private NDManager keptManager() {
        if (session.keptManager == null || !session.keptManager.isOpen()) {
            session.keptManager = anchor(0).getManager().newSubManager(sessionDevice());
        }
        return session.keptManager;
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
