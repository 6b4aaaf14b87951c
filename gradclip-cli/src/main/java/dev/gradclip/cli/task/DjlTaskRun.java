package dev.gradclip.cli.task;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import dev.gradclip.ClipReport;
import dev.gradclip.Clipper;
import dev.gradclip.djl.DjlGradients;
import java.util.List;
import java.util.Map;

/**
 * The training step shared by the tasks that train on DJL's engine: forward and backward on one
 * batch, then the gradclip clipper on the gradients where they live (gradclip-djl's
 * {@link DjlGradients}, no copy to the Java heap), then DJL's optimizer unless the clipper says to
 * skip the step; a skipped step clears the gradients so they do not add into the next one.
 */
abstract class DjlTaskRun implements TaskRun {

    /** The model. */
    protected final Model model;
    /** Its trainer (loss, optimizer, parameters). */
    protected final Trainer trainer;
    private final Clipper clipper;
    private LayerNorms layerNorms;

    /**
     * @param model   the model, owned by this run from now on
     * @param trainer its trainer, initialised
     * @param clipper the clipper
     */
    DjlTaskRun(Model model, Trainer trainer, Clipper clipper) {
        this.model = model;
        this.trainer = trainer;
        this.clipper = clipper;
    }

    /**
     * Builds the inputs and labels of one training batch.
     *
     * @param manager the manager that owns the step's arrays
     * @param step    the step number, from 1
     * @return {@code {data, labels}}
     */
    protected abstract NDList[] batch(NDManager manager, long step);

    @Override
    public List<String> layers() {
        return layerNorms().layers();
    }

    private LayerNorms layerNorms() {
        if (layerNorms == null) {
            layerNorms = new LayerNorms(DjlGradients.of(trainer));
        }
        return layerNorms;
    }

    @Override
    public StepResult step(long step) {
        try (NDManager m = trainer.getManager().newSubManager()) {
            NDList[] xy = batch(m, step);
            double loss;
            try (GradientCollector collector = trainer.newGradientCollector()) {
                NDList preds = trainer.forward(xy[0], xy[1]);
                NDArray value = trainer.getLoss().evaluate(xy[1], preds);
                collector.backward(value);
                loss = value.toType(DataType.FLOAT64, false).getDouble();
            }
            DjlGradients gradients = DjlGradients.of(trainer);
            ClipReport report = clipper.clip(gradients);
            if (report.skipped()) {
                gradients.zeroGradients();
            } else {
                trainer.step();
            }
            return new StepResult(loss, report, layerNorms().of(report), Map.of());
        }
    }

    @Override
    public void close() {
        trainer.close();
        model.close();
    }
}
