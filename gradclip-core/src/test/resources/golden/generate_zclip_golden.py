#!/usr/bin/env python3
"""Generates zclip_golden.txt: ZClip on fixed norm sequences, step by step, computed from the rule of
the reference implementation (Kumar et al. 2025, "ZClip: Adaptive Spike Mitigation for LLM
Pre-Training", arXiv:2504.02507; class ZClip in zclip/zclip.py of github.com/bluorion-com/ZClip).

The rule below is written here from the reference's behaviour, in plain Python floats (IEEE
doubles, the same operations in the same order as a straightforward implementation), with only the
standard library, so the expected values depend on no framework and on no gradclip code:

  defaults: alpha = 0.97, z_thresh = 2.5, max_grad_norm = 1.0 (None: no cap), eps = 1e-6,
            warmup_steps = 25, mode "zscore", clip_option "adaptive_scaling", clip_factor = 1.0,
            skip_update_on_spike = False
  warm-up (statistics not yet initialised):
      append the raw norm n to a buffer; once it holds warmup_steps norms:
          mean = sum/len, var = population variance, buffer emptied
      with a cap c, clip as torch.nn.utils.clip_grad_norm_(c) does: coef = min(1, c/(n + 1e-6))
      without a cap: untouched
  after warm-up:
      std = sqrt(var); z = (n - mean)/(std + eps)
      clip value: None unless z > z_thresh; then mean + (z_thresh*std)/(z/z_thresh) (times
          clip_factor), or mean for clip_option "mean"
      effective = min(clip value if set else n, c if set)
      coef = effective/(n + 1e-6) if n > effective else 1
      unless a clip value was set and skip_update_on_spike:
          fed = clip value if set else n   (never the capped value)
          mean = alpha*mean + (1 - alpha)*fed
          var = alpha*var + (1 - alpha)*(fed - mean)**2   (with the new mean)

Each norm is a float32 value (a one-element gradient [v] has L2 norm exactly |v|). The clipped
gradient is v when coef == 1, else float32(v * float32(coef)).

Run from this directory:  python3 generate_zclip_golden.py > zclip_golden.txt
The test dev.gradclip.ZClipGoldenTest reads zclip_golden.txt and checks ZClipper against it.
"""

import math
import random
import struct

EPS = 1e-6


def f32(x):
    """Rounds a Python float (double) to the nearest float32, returned as a double."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


class ZClipRule:
    """The reference's ZClip on scalar norms; step(n) returns the coefficient applied."""

    def __init__(self, alpha=0.97, z_thresh=2.5, max_norm=1.0, warmup=25, option="adaptive_scaling",
                 clip_factor=1.0, skip_update_on_spike=False):
        self.alpha = alpha
        self.z_thresh = z_thresh
        self.max_norm = max_norm
        self.warmup = warmup
        self.option = option
        self.clip_factor = clip_factor
        self.skip_update_on_spike = skip_update_on_spike
        self.buffer = []
        self.mean = None
        self.var = None

    def _start_statistics(self):
        total = 0.0
        for x in self.buffer:  # left to right, as a plain loop (no compensated sum)
            total += x
        self.mean = total / len(self.buffer)
        squares = 0.0
        for x in self.buffer:
            d = x - self.mean
            squares += d * d
        self.var = squares / len(self.buffer)
        self.buffer = []

    def step(self, n):
        if self.mean is None:
            self.buffer.append(n)
            if len(self.buffer) >= self.warmup:
                self._start_statistics()
            if self.max_norm is None:
                return 1.0
            return min(1.0, self.max_norm / (n + EPS))
        std = math.sqrt(self.var)
        z = (n - self.mean) / (std + EPS)
        clip_value = None
        if z > self.z_thresh:
            if self.option == "adaptive_scaling":
                eta = z / self.z_thresh
                clip_value = (self.mean + (self.z_thresh * std) / eta) * self.clip_factor
            else:
                clip_value = self.mean
        effective = n if clip_value is None else clip_value
        if self.max_norm is not None:
            effective = min(effective, self.max_norm)
        coef = effective / (n + EPS) if n > effective else 1.0
        if clip_value is None or not self.skip_update_on_spike:
            fed = n if clip_value is None else clip_value
            self.mean = self.alpha * self.mean + (1 - self.alpha) * fed
            d = fed - self.mean
            self.var = self.alpha * self.var + (1 - self.alpha) * d * d
        return coef


def uniform_norms(rng, length, low, high, spikes=(), factor=100.0):
    out = [f32(rng.uniform(low, high)) for _ in range(length)]
    for k in spikes:
        out[k] = f32(out[k] * factor)
    return out


def fmt(x):
    return repr(float(x))


def case(lines, name, norms, **settings):
    rule = ZClipRule(**settings)
    lines.append("case " + name)
    lines.append("alpha " + fmt(rule.alpha))
    lines.append("z " + fmt(rule.z_thresh))
    lines.append("warmup %d" % rule.warmup)
    lines.append("option " + rule.option)
    lines.append("max " + ("none" if rule.max_norm is None else fmt(rule.max_norm)))
    lines.append("skip_update_on_spike " + ("true" if rule.skip_update_on_spike else "false"))
    clipped = 0
    for n in norms:
        coef = rule.step(n)
        after = n if coef == 1.0 else f32(n * f32(coef))
        clipped += coef != 1.0
        lines.append("step %s %s %s" % (fmt(n), fmt(coef), fmt(after)))
    lines.append("mean " + fmt(rule.mean))
    lines.append("variance " + fmt(rule.var))
    lines.append("clipped %d" % clipped)
    lines.append("end")


def main():
    rng = random.Random(2504_02507)
    lines = ["# Golden values for ZClipper, generated by generate_zclip_golden.py from the rule of the",
             "# reference implementation (bluorion-com/ZClip). Do not edit; regenerate with:",
             "#   python3 generate_zclip_golden.py > zclip_golden.txt",
             "# step NORM COEFFICIENT CLIPPED_VALUE; norms are float32 values."]

    # norms well below the cap: the adaptive threshold does the work after warm-up; a 100x spike in
    # warm-up (step 10) is cut to the cap, yet its raw norm enters the statistics; a norm just below
    # the cap in warm-up (step 5) is still scaled by c/(n + 1e-6) < 1, as clip_grad_norm_ does;
    # a zero norm (step 100) is an ordinary norm
    small = uniform_norms(rng, 200, 0.05, 0.15, spikes=(10, 60, 61, 62, 150))
    small[5] = f32(1.0 - 3e-7)
    small[100] = 0.0
    case(lines, "defaults-small-norms", small)
    case(lines, "no-cap-small-norms", small, max_norm=None)
    case(lines, "defaults-skip-update-on-spike", small, skip_update_on_spike=True)

    # norms around the cap: the cap binds on many steps, the statistics follow the raw norms
    near = uniform_norms(rng, 200, 0.5, 1.5, spikes=(10, 60, 61, 62, 150))
    case(lines, "defaults-norms-around-the-cap", near)
    case(lines, "no-cap", near, max_norm=None)
    case(lines, "mean-option-cap-1.2", near, option="mean", max_norm=1.2)
    case(lines, "alpha-0.9-z-2-warmup-5-no-cap", near, alpha=0.9, z_thresh=2.0, warmup=5, max_norm=None)

    # a constant warm-up: sigma = 0, so any later norm above the mean is an outlier clipped to it
    flat = [0.5] * 5 + [0.5, f32(0.6), f32(0.4), 3.0, f32(0.5000001)]
    case(lines, "constant-warmup", flat, warmup=5)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
