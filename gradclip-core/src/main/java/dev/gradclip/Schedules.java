package dev.gradclip;

/** The implementations behind the {@link Schedule} factories; records so they print their settings. */
final class Schedules {

    private Schedules() {
    }

    record Constant(double value) implements Schedule {
        @Override
        public double valueAt(long step) {
            return value;
        }
    }

    record Step(double initial, long stepSize, double gamma) implements Schedule {
        @Override
        public double valueAt(long step) {
            return initial * Math.pow(gamma, (double) (step / stepSize));
        }
    }

    record Cosine(double initial, long totalSteps, double minimum) implements Schedule {
        @Override
        public double valueAt(long step) {
            if (step >= totalSteps) {
                return minimum;
            }
            return minimum + (initial - minimum) * (1 + Math.cos(Math.PI * step / totalSteps)) / 2;
        }
    }

    record Warmup(long warmupSteps, Schedule base) implements Schedule {
        @Override
        public double valueAt(long step) {
            double v = base.valueAt(step);
            return step + 1 >= warmupSteps ? v : v * (step + 1) / warmupSteps;
        }
    }
}
