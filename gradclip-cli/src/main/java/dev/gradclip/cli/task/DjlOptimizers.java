package dev.gradclip.cli.task;

import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.training.tracker.WarmUpTracker;
import dev.gradclip.cli.spec.OptimizerSpec;
import dev.gradclip.djl.DjlNesterov;
import dev.gradclip.djl.DjlRmsProp;
import dev.gradclip.optim.Adam;
import dev.gradclip.optim.RmsProp;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the DJL optimizer an optimizer spec names, for the tasks that train on DJL's engine:
 * {@code sgd} and {@code momentum} as DJL's {@code Sgd}, {@code adam} and {@code adamw} as DJL's,
 * {@code nesterov} and {@code rmsprop} as gradclip-djl's {@link DjlNesterov} and {@link DjlRmsProp}
 * (DJL 0.36's PyTorch engine throws "Not implemented" for DJL's own {@code Nag} and {@code RmsProp}
 * updates, and DJL's RMSprop formulas are not PyTorch's), all with PyTorch's defaults; the schedule
 * becomes a DJL tracker ({@code constant} fixed, {@code cosine} to 0 over the run, {@code step} a
 * multi-factor tracker, {@code warmup} a linear warm-up from 0). DJL's own clipping stays off:
 * gradclip clips before the optimizer.
 */
final class DjlOptimizers {

    private DjlOptimizers() {
    }

    /**
     * @param spec       the optimizer spec
     * @param fallbackLr the task's learning rate when the spec gives none
     * @param totalSteps the run's length
     * @return the optimizer
     */
    static Optimizer of(OptimizerSpec spec, double fallbackLr, int totalSteps) {
        var p = spec.parameters();
        float lr = (float) spec.learningRate(fallbackLr);
        Tracker tracker = tracker(spec, lr, totalSteps);
        switch (spec.name()) {
            case "momentum":
                return Optimizer.sgd().setLearningRateTracker(tracker).optMomentum((float) p.number("beta", 0.9)).build();
            case "nesterov":
                return DjlNesterov.builder().setLearningRateTracker(tracker)
                        .setMomentum((float) p.number("beta", 0.9)).build();
            case "rmsprop":
                return DjlRmsProp.builder().optLearningRateTracker(tracker)
                        .optAlpha((float) p.number("alpha", RmsProp.DEFAULT_ALPHA))
                        .optEpsilon((float) p.number("eps", RmsProp.DEFAULT_EPSILON))
                        .optMomentum((float) p.number("momentum", 0.0))
                        .optCentered(p.flag("centered", false)).build();
            case "adam":
                return Optimizer.adam().optLearningRateTracker(tracker)
                        .optBeta1((float) p.number("beta1", Adam.DEFAULT_BETA1))
                        .optBeta2((float) p.number("beta2", Adam.DEFAULT_BETA2))
                        .optEpsilon((float) p.number("eps", Adam.DEFAULT_EPSILON)).build();
            case "adamw":
                return Optimizer.adamW().optLearningRateTracker(tracker)
                        .optBeta1((float) p.number("beta1", Adam.DEFAULT_BETA1))
                        .optBeta2((float) p.number("beta2", Adam.DEFAULT_BETA2))
                        .optEpsilon((float) p.number("eps", Adam.DEFAULT_EPSILON))
                        .optWeightDecays((float) p.number("wd", Adam.DEFAULT_ADAMW_WEIGHT_DECAY)).build();
            default:
                return Optimizer.sgd().setLearningRateTracker(tracker).build();
        }
    }

    private static Tracker tracker(OptimizerSpec spec, float lr, int totalSteps) {
        var p = spec.parameters();
        Tracker base;
        switch (p.word("schedule", "constant")) {
            case "cosine":
                base = Tracker.cosine().setBaseValue(lr).optFinalValue(0f).setMaxUpdates(Math.max(1, totalSteps)).build();
                break;
            case "step": {
                int every = p.count("every", 1);
                List<Integer> steps = new ArrayList<>();
                for (int s = every; s < totalSteps && steps.size() < 10_000; s += every) {
                    steps.add(s);
                }
                if (steps.isEmpty()) {
                    base = Tracker.fixed(lr);
                } else {
                    base = Tracker.multiFactor().setBaseValue(lr)
                            .setSteps(steps.stream().mapToInt(Integer::intValue).toArray())
                            .optFactor((float) p.number("gamma", 0.1)).build();
                }
                break;
            }
            default:
                base = Tracker.fixed(lr);
                break;
        }
        if (p.has("warmup")) {
            return Tracker.warmUp().setMainTracker(base).optWarmUpSteps(p.count("warmup", 1))
                    .optWarmUpBeginValue(0f).optWarmUpMode(WarmUpTracker.Mode.LINEAR).build();
        }
        return base;
    }
}
