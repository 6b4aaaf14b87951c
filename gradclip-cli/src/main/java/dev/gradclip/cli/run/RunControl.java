package dev.gradclip.cli.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gradclip.Clipper;
import dev.gradclip.checkpoint.Checkpoint;
import dev.gradclip.checkpoint.CheckpointStore;
import dev.gradclip.cli.task.TaskRun;
import dev.gradclip.faults.FaultInjectingClipper;
import dev.gradclip.faults.FaultInjector;
import dev.gradclip.faults.FaultTally;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How the {@link RunLoop} makes a run survive faults: checkpoints every N steps (keeping the last
 * two) from which a killed run resumes bit for bit, and injected faults counted in the summary.
 *
 * <p>A checkpoint holds the task's state ({@link TaskRun#saveState()}: parameters, optimizer and
 * clipper state, data order and random state), the trainer's counters and how many bytes of its
 * progress log ({@code DIR/checkpoints/progress.log}) and of {@code metrics.jsonl} it covers, the
 * fault tally, and the options the run was started with. Files
 * are written by {@link CheckpointStore} into {@code DIR/checkpoints}: atomically, checksummed, and a
 * damaged newest file falls back to the one before it.
 */
public final class RunControl {

    /** The sub-folder of a run's folder that holds its checkpoints. */
    public static final String CHECKPOINTS = "checkpoints";

    /** The checkpoint section naming the run (the id in its folder's {@value OutputFolder#RUN_ID}). */
    public static final String RUN = "run";

    private static final String PROGRESS = "progress";
    private static final String FAULTS = "faults";

    private final int every;
    private final FaultInjector injector;
    private final List<String> options;
    private final CheckpointStore.Loaded resume;
    private final FaultTally tally = new FaultTally();
    private CheckpointStore store;
    private FaultInjectingClipper injecting;
    private long lastSaved = -1;
    private String runId;

    private RunControl(int every, FaultInjector injector, List<String> options, CheckpointStore.Loaded resume) {
        this.every = every;
        this.injector = injector;
        this.options = List.copyOf(options);
        this.resume = resume;
    }

    /** @return a control that does nothing: no checkpoints, no faults */
    public static RunControl none() {
        return new RunControl(0, null, List.of(), null);
    }

    /**
     * @param every    checkpoint every this many steps; 0 for none (a resumed run keeps checkpointing
     *                 when its options say so)
     * @param injector the faults to inject, or {@code null}
     * @param options  the command-line options the run was started with, saved in each checkpoint
     * @param resume   the checkpoint to resume from, or {@code null} for a new run
     * @return the control
     * @throws IllegalArgumentException if {@code every} is negative
     */
    public static RunControl of(int every, FaultInjector injector, List<String> options,
            CheckpointStore.Loaded resume) {
        if (every < 0) {
            throw new IllegalArgumentException("checkpoint interval must be >= 0, got " + every);
        }
        Objects.requireNonNull(options, "options");
        return new RunControl(every, injector != null && injector.isActive() ? injector : null, options, resume);
    }

    /**
     * Reads the options a checkpointed run was started with.
     *
     * @param checkpoint a checkpoint written by a run
     * @return its command-line options
     * @throws IllegalArgumentException if the checkpoint holds none
     */
    public static List<String> options(Checkpoint checkpoint) {
        try {
            JsonNode node = Json.read(checkpoint.sectionText(Checkpoint.OPTIONS));
            List<String> out = new ArrayList<>();
            if (!node.isArray()) {
                throw new IllegalArgumentException("the checkpoint's options are not a list");
            }
            node.forEach(n -> out.add(n.asText()));
            return out;
        } catch (IOException e) {
            throw new IllegalArgumentException("the checkpoint's options cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * Names the run, so that its checkpoints carry the id its folder records: a resume uses only
     * checkpoints of the run in the folder.
     *
     * @param id the run's id ({@link OutputFolder#newRunId()}), or {@code null}
     * @return this control
     */
    public RunControl named(String id) {
        this.runId = id;
        return this;
    }

    /**
     * @param checkpoint a checkpoint
     * @return the id of the run that wrote it, or {@code null} when it names none (an older gradclip)
     */
    public static String runOf(Checkpoint checkpoint) {
        return checkpoint.hasSection(RUN) ? checkpoint.sectionText(RUN).strip() : null;
    }

    /** @return whether checkpoints are written */
    public boolean checkpointing() {
        return every > 0;
    }

    /** @return the tally of injected faults */
    public FaultTally tally() {
        return tally;
    }

    /**
     * Opens the run's metrics: in place when checkpointing (kept up to what the resumed checkpoint
     * covers), else through a temporary file.
     *
     * @param folder the run's folder
     * @return the writer
     */
    MetricsWriter openMetrics(OutputFolder folder) {
        if (!checkpointing()) {
            return new MetricsWriter(folder);
        }
        store = CheckpointStore.in(folder.path().resolve(CHECKPOINTS));
        if (resume == null) {
            // a new run in a folder that held another must not be resumable into the other's checkpoints
            try {
                store.clear();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot clear the old checkpoints in " + store.directory() + ": "
                        + e.getMessage(), e);
            }
        }
        long keep = resume == null ? 0 : ByteBuffer.wrap(resume.checkpoint().section(Checkpoint.METRICS)).getLong();
        return MetricsWriter.inPlace(folder, keep);
    }

    /**
     * @param clipper the run's clipper
     * @return the clipper, wrapped to inject faults first when there are any to inject
     */
    Clipper wrap(Clipper clipper) {
        if (injector == null) {
            return clipper;
        }
        injecting = new FaultInjectingClipper(clipper, injector, tally, 1);
        return injecting;
    }

    /**
     * Restores a resumed run's state.
     *
     * @param run      the task's run, freshly started
     * @param progress the trainer's progress, empty
     * @return the first step to train (1 for a new run)
     * @throws IllegalArgumentException if the checkpoint does not belong to this run
     */
    int resume(TaskRun run, RunHistory progress) {
        if (resume == null) {
            if (checkpointing()) {
                progress.openLog(store.directory().resolve(RunHistory.LOG), 0, 0);
            }
            return 1;
        }
        if (!checkpointing()) {
            throw new IllegalStateException("a resumed run must checkpoint");
        }
        Checkpoint c = resume.checkpoint();
        run.restoreState(c.section(Checkpoint.TRAINING_STATE));
        progress.restore(c.section(PROGRESS), store.directory().resolve(RunHistory.LOG));
        if (progress.done != c.step()) {
            throw new IllegalArgumentException("checkpoint " + resume.file() + " is inconsistent: step " + c.step()
                    + " but " + progress.done + " steps of progress");
        }
        if (injector != null && c.hasSection(FAULTS)) {
            tally.restoreState(c.section(FAULTS));
        }
        lastSaved = c.step();
        return Math.toIntExact(c.step() + 1);
    }

    /**
     * Called before each step.
     *
     * @param step the step, from 1
     */
    void beforeStep(long step) {
        if (injecting != null) {
            injecting.atStep(step);
        }
    }

    /**
     * Called after each completed step: writes a checkpoint when one is due.
     *
     * @param step     the step just completed
     * @param run      the task's run
     * @param progress the trainer's progress
     * @param metrics  the metrics writer
     */
    void afterStep(long step, TaskRun run, RunHistory progress, MetricsWriter metrics) {
        if (checkpointing() && step % every == 0) {
            save(step, run, progress, metrics);
        }
    }

    /**
     * Writes a checkpoint after the last completed step unless one was just written: at the end of
     * a run, and before a run stops on a non-finite gradient.
     *
     * @param run      the task's run
     * @param progress the trainer's progress
     * @param metrics  the metrics writer
     */
    void finish(TaskRun run, RunHistory progress, MetricsWriter metrics) {
        if (checkpointing() && progress.done != lastSaved) {
            save(progress.done, run, progress, metrics);
        }
    }

    private void save(long step, TaskRun run, RunHistory progress, MetricsWriter metrics) {
        long bytes = metrics.sync();
        Checkpoint.Builder b = Checkpoint.builder(step)
                .section(Checkpoint.OPTIONS, Json.line(options))
                .section(Checkpoint.TRAINING_STATE, run.saveState())
                .section(PROGRESS, progress.save())
                .section(Checkpoint.METRICS, ByteBuffer.allocate(16).putLong(bytes).putLong(step).array());
        if (injector != null) {
            b.section(FAULTS, tally.saveState());
        }
        if (runId != null) {
            b.section(RUN, runId);
        }
        try {
            store.save(b.build());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a checkpoint into " + store.directory() + ": "
                    + e.getMessage(), e);
        }
        lastSaved = step;
    }

    /**
     * Adds the fault counts to a run's summary when faults were injected:
     * {@code "faults": {"injected_nonfinite_rate", "injected_spike_rate", "spike_scale",
     * "non_finite": {...}, "spikes": {...}}}.
     *
     * @param summary the summary's fields
     */
    void addTo(Map<String, Object> summary) {
        if (injector == null) {
            return;
        }
        Map<String, Object> faults = new LinkedHashMap<>();
        faults.put("nonfinite_rate", injector.nonFiniteRate());
        faults.put("spike_rate", injector.spikeRate());
        faults.put("spike_scale", injector.spikeScale());
        faults.putAll(tally.toMap());
        summary.put("faults", faults);
    }
}
