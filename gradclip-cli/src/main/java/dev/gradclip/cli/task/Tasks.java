package dev.gradclip.cli.task;

import dev.gradclip.cli.UsageException;
import dev.gradclip.lab.sequence.SequenceTask;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry of tasks by name.
 */
public final class Tasks {

    private static final Map<String, Task> TASKS = new LinkedHashMap<>();

    static {
        register(new QuadraticTask());
        for (SequenceTask kind : SequenceTask.values()) {
            register(new SequenceRnnTask(kind));
        }
        register(new FashionMnistTask());
        register(new CharLmTask());
    }

    private Tasks() {
    }

    private static void register(Task task) {
        TASKS.put(task.name(), task);
    }

    /**
     * @param name a task name
     * @return the task
     * @throws UsageException if there is no task of that name
     */
    public static Task byName(String name) {
        Task t = TASKS.get(name);
        if (t == null) {
            throw new UsageException("unknown task '" + name + "'" + dev.gradclip.cli.NearMiss.hint(name, names())
                    + " (known: " + String.join(", ", names()) + ")");
        }
        return t;
    }

    /** @return every task name, in help order */
    public static List<String> names() {
        return new ArrayList<>(TASKS.keySet());
    }
}
