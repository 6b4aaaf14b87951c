package dev.gradclip;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A random set of named gradient tensors with shapes, groups and parameter values, for property
 * tests: several tensors of random rank and shape, values whose magnitudes span many decades
 * (each tensor has its own scale, and elements vary around it). Arrays are copied on demand so a
 * property can clip one copy and compare it with another.
 *
 * @param names  tensor names, unique ({@code layerK.weight}/{@code layerK.bias} so groups form)
 * @param shapes tensor shapes
 * @param grads  gradient values
 * @param params parameter values
 */
public record GradientCase(List<String> names, List<long[]> shapes, List<float[]> grads, List<float[]> params) {

    /**
     * Draws a case.
     *
     * @param r           the random source
     * @param maxElements the largest tensor size to draw (a few draws reach it, most are small)
     * @return the case
     */
    public static GradientCase random(Random r, int maxElements) {
        int tensors = 1 + r.nextInt(6);
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        List<float[]> grads = new ArrayList<>();
        List<float[]> params = new ArrayList<>();
        for (int t = 0; t < tensors; t++) {
            long[] shape = randomShape(r, maxElements);
            int n = 1;
            for (long d : shape) {
                n *= (int) d;
            }
            double scale = Math.pow(10, -8 + 16 * r.nextDouble());
            double spread = r.nextInt(4) == 0 ? 6 : 1; // some tensors span six decades
            float[] g = new float[n];
            float[] w = new float[n];
            for (int i = 0; i < n; i++) {
                g[i] = (float) (scale * r.nextGaussian() * Math.pow(10, spread * (r.nextDouble() - 0.5)));
                w[i] = (float) (r.nextGaussian() * Math.pow(10, -2 * r.nextDouble()));
            }
            if (r.nextInt(10) == 0) {
                Arrays.fill(g, 0f); // an all-zero tensor now and then
            }
            names.add("layer" + (t / 2) + (t % 2 == 0 ? ".weight" : ".bias"));
            shapes.add(shape);
            grads.add(g);
            params.add(w);
        }
        return new GradientCase(names, shapes, grads, params);
    }

    private static long[] randomShape(Random r, int maxElements) {
        int big = r.nextInt(8) == 0 ? maxElements : Math.min(maxElements, 200);
        return switch (r.nextInt(5)) {
            case 0 -> new long[0];
            case 1 -> new long[] {r.nextInt(big + 1)};
            case 2, 3 -> {
                int rows = 1 + r.nextInt(20);
                yield new long[] {rows, r.nextInt(big / rows + 1)};
            }
            default -> {
                int a = 1 + r.nextInt(6);
                int b = 1 + r.nextInt(4);
                yield new long[] {a, b, r.nextInt(Math.max(1, big / (a * b)) + 1)};
            }
        };
    }

    /** @return a deep copy of the gradients */
    public float[][] copyGrads() {
        float[][] out = new float[grads.size()][];
        for (int t = 0; t < out.length; t++) {
            out[t] = grads.get(t).clone();
        }
        return out;
    }

    /** @return a gradient set over the given arrays (one per tensor), with parameters */
    public GradientSet set(float[][] g) {
        GradientSet.Builder b = GradientSet.builder();
        for (int t = 0; t < g.length; t++) {
            b.add(names.get(t), g[t], params.get(t), shapes.get(t));
        }
        return b.build();
    }

    /** @return the total number of elements */
    public int elements() {
        int n = 0;
        for (float[] g : grads) {
            n += g.length;
        }
        return n;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("GradientCase[");
        for (int t = 0; t < names.size(); t++) {
            float[] g = grads.get(t);
            sb.append(t == 0 ? "" : ", ").append(names.get(t)).append(Arrays.toString(shapes.get(t)))
                    .append(" l2=").append(Exact.l2(g));
        }
        return sb.append(']').toString();
    }
}
