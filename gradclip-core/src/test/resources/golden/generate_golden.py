#!/usr/bin/env python3
"""Generates golden.txt: gradient-clipping cases with outputs computed from the published formulas.

Only the standard library (fractions, decimal, struct, random) is used, so the expected values do
not depend on any framework. Everything is exact (fractions) or computed with 50 significant digits
(square and cube roots), and each float32 result is rounded once, to nearest-even, as IEEE 754
float arithmetic does:

  global norm (Pascanu et al. 2013, arXiv:1211.5063):  n = (sum_t sum_i |g_ti|^p)^(1/p), max for p=inf;
      default rule: if n > c: g <- f32(g * f32(c/n))
      (a coefficient below 2^-126 is applied as f32(coef * 2^126k) and then k exact steps of 2^-126)
      PyTorch clip_grad_norm_: coef = min(1, c/(n + 1e-6)), always g <- f32(g * f32(coef))
  per tensor / per group (DL4J ClipL2PerParamType / ClipL2PerLayer): the same rule per scope
  renormalize (DL4J Renormalize*): g <- f32(g * f32(1/n)), n = 0 counted as 1e-5
  value: g <- min(max(g, -c), c)
  AGC (Brock et al. 2021, arXiv:2102.06171), per unit i (row along the first axis):
      wn = max(|W_i|, 1e-3), gn = |G_i|, limit = lambda*wn;
      if gn > limit: G_i <- f32(G_i * f32(limit / max(gn, 1e-6)))
  (gradclip leaves a norm within 1e-6 relative above its limit untouched; no case falls there)

Run from this directory:  python3 generate_golden.py > golden.txt
The test dev.gradclip.GoldenValuesTest reads golden.txt and checks every clipper against it.
"""

import random
import struct
from decimal import Decimal, getcontext
from fractions import Fraction

getcontext().prec = 50

# gradclip's default rule leaves a norm within 1e-6 above c untouched; cases keep clear of that band
TOLERANCE = Fraction(1, 10**6)
PYTORCH_EPSILON = Fraction(1e-6)  # the double nearest 1e-6, as the Java constant
AGC_EPSILON = Fraction(1e-3)
AGC_GRADIENT_FLOOR = Fraction(1e-6)
RENORMALIZE_ZERO_NORM = Fraction(1e-5)
FLT_MAX = (2 - Fraction(1, 2**23)) * Fraction(2) ** 127
MIN_NORMAL = Fraction(2) ** -126


def f32(x):
    """Rounds a Python float (double) to the nearest float32, returned as a double."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def round_f32(x):
    """Rounds an exact Fraction to the nearest float32 (ties to even), returned as a double."""
    x = Fraction(x)
    if x == 0:
        return 0.0
    sign = -1 if x < 0 else 1
    x = abs(x)
    e = x.numerator.bit_length() - x.denominator.bit_length()
    if Fraction(2) ** e > x:
        e -= 1
    q = max(e - 23, -149)  # 24-bit significand; subnormal quantum 2^-149
    m = x / Fraction(2) ** q
    n = m.numerator // m.denominator
    r = m - n
    if r > Fraction(1, 2) or (r == Fraction(1, 2) and n % 2 == 1):
        n += 1
    v = Fraction(n) * Fraction(2) ** q
    if v > FLT_MAX:
        return sign * float("inf")
    return sign * float(v)


def to_fraction(d):
    return Fraction(d) if not isinstance(d, Decimal) else Fraction(*d.as_integer_ratio())


def root(s, p):
    """The p-th root of an exact non-negative Fraction, to 50 digits, as a Fraction."""
    if s == 0:
        return Fraction(0)
    d = Decimal(s.numerator) / Decimal(s.denominator)
    if p == 2:
        return to_fraction(d.sqrt())
    return to_fraction((d.ln() / Decimal(p)).exp())


def norm(values, p):
    """Exact-to-50-digits p-norm of float values (Python floats holding float32 values)."""
    if p == "inf":
        return max((abs(Fraction(v)) for v in values), default=Fraction(0))
    s = sum((abs(Fraction(v)) ** p for v in values), Fraction(0))
    if p == 1:
        return s
    return root(s, p)


def combine(norms, p):
    if p == "inf":
        return max(norms, default=Fraction(0))
    if p == 1:
        return sum(norms, Fraction(0))
    return root(sum((n ** p for n in norms), Fraction(0)), p)


def scale(values, coef):
    # a coefficient below the smallest normal float would lose its bits (or become 0) as a float:
    # gradclip applies it as a normal float times exact steps of 2^-126
    coef = Fraction(coef)
    steps = 0
    while 0 < coef < MIN_NORMAL:
        coef *= Fraction(2) ** 126
        steps += 1
    c = round_f32(coef)
    # a product of two float32 values is exact in double, so f32() rounds it exactly once
    out = [f32(v * c) for v in values]
    for _ in range(steps):
        out = [f32(v * 2.0 ** -126) for v in out]
    return out


def default_coef(n, c, epsilon):
    """The coefficient, or None when nothing is written."""
    c = Fraction(c)
    if epsilon:
        coef = min(Fraction(1), c / (n + PYTORCH_EPSILON))
        return coef  # PyTorch always multiplies (by 1 when not clipped)
    if n > c * (1 + TOLERANCE):
        return c / n
    assert n <= c, "case falls in the tolerance band; choose another threshold"
    return None


def fmt(x):
    return repr(float(x))


def dec(x):
    """A norm as a decimal string with 25 significant digits."""
    d = Decimal(x.numerator) / Decimal(x.denominator)
    return format(d, ".25g")


class Case:
    def __init__(self, name, method, **settings):
        self.name = name
        self.method = method
        self.settings = settings
        self.tensors = []  # (name, group, shape, grad, param)

    def tensor(self, name, shape, grad, param=None, group=None):
        if group is None:
            group = name.rsplit(".", 1)[0] if "." in name[1:] else name
        size = 1
        for d in shape:
            size *= d
        assert len(grad) == size
        self.tensors.append((name, group, shape, [f32(v) for v in grad],
                             None if param is None else [f32(v) for v in param]))
        return self

    def solve(self):
        s = self.settings
        p = s.get("p", 2)
        tensor_norms = [norm(t[3], 2 if self.method in ("value", "agc") else p) for t in self.tensors]
        outs = [list(t[3]) for t in self.tensors]
        clipped = 0
        if self.method == "global-norm":
            before = combine(tensor_norms, p)
            coef = default_coef(before, s["threshold"], s.get("epsilon", 0))
            if coef is not None:
                outs = [scale(o, coef) for o in outs]
                clipped = 1 if coef != 1 else 0
        elif self.method in ("norm", "renormalize-norm"):
            before = combine(tensor_norms, p)
            for i, n in enumerate(tensor_norms):
                if self.method == "norm":
                    coef = default_coef(n, s["threshold"], s.get("epsilon", 0))
                else:
                    coef = 1 / (n if n != 0 else RENORMALIZE_ZERO_NORM)
                if coef is not None and coef != 1:
                    outs[i] = scale(outs[i], coef)
                    clipped += 1
        elif self.method in ("group-norm", "renormalize-group-norm"):
            before = combine(tensor_norms, p)
            groups = {}
            for i, t in enumerate(self.tensors):
                groups.setdefault(t[1], []).append(i)
            for members in groups.values():
                n = combine([tensor_norms[i] for i in members], p)
                if self.method == "group-norm":
                    coef = default_coef(n, s["threshold"], s.get("epsilon", 0))
                else:
                    coef = 1 / (n if n != 0 else RENORMALIZE_ZERO_NORM)
                if coef is not None and coef != 1:
                    for i in members:
                        outs[i] = scale(outs[i], coef)
                    clipped += 1
        elif self.method == "value":
            before = combine(tensor_norms, 2)
            c = f32(s["threshold"])
            for o in outs:
                for j, v in enumerate(o):
                    if v > c or v < -c:
                        o[j] = c if v > c else -c
                        clipped += 1
        elif self.method == "agc":
            before = combine(tensor_norms, 2)
            lam = Fraction(s["lambda"])
            excluded = s.get("exclude", [])
            for i, (name, _, shape, grad, param) in enumerate(self.tensors):
                if name in excluded:
                    continue
                units = shape[0] if len(shape) >= 2 else 1
                size = len(grad) // units if units else 0
                for u in range(units):
                    g = grad[u * size:(u + 1) * size]
                    w = param[u * size:(u + 1) * size]
                    gn = norm(g, 2)
                    limit = lam * max(norm(w, 2), AGC_EPSILON)
                    assert not (limit < gn <= limit * (1 + TOLERANCE)), "unit in the tolerance band"
                    if gn > limit * (1 + TOLERANCE):
                        outs[i][u * size:(u + 1) * size] = scale(g, limit / max(gn, AGC_GRADIENT_FLOOR))
                        clipped += 1
        else:
            raise ValueError(self.method)
        return before, tensor_norms, outs, clipped

    def write(self, out):
        before, tensor_norms, outs, clipped = self.solve()
        out.append("case " + self.name)
        out.append("method " + self.method)
        for key in ("p", "threshold", "epsilon", "lambda"):
            if key in self.settings:
                v = self.settings[key]
                out.append(key + " " + ("Infinity" if v == "inf" else fmt(v)))
        for name in self.settings.get("exclude", []):
            out.append("exclude " + name)
        for (name, group, shape, grad, param), o in zip(self.tensors, outs):
            out.append("tensor %s %s %s" % (name, group, "x".join(map(str, shape)) if shape else "scalar"))
            out.append("grad " + " ".join(map(fmt, grad)))
            if param is not None:
                out.append("param " + " ".join(map(fmt, param)))
            out.append("expect " + " ".join(map(fmt, o)))
        out.append("norm_before " + dec(before))
        out.append("tensor_norms " + " ".join(dec(n) for n in tensor_norms))
        out.append("clipped_count %d" % clipped)
        out.append("end")


def gauss(rng, n, s=1.0):
    return [rng.gauss(0, 1) * s for _ in range(n)]


def mlp(case, rng, s=1.0, params=False):
    """Two layers of an MLP: a [4,3] weight, its bias, a [2,4] weight, its bias."""
    for name, shape in (("fc1.weight", [4, 3]), ("fc1.bias", [4]), ("fc2.weight", [2, 4]), ("fc2.bias", [2])):
        size = 1
        for d in shape:
            size *= d
        case.tensor(name, shape, gauss(rng, size, s), gauss(rng, size, 0.5) if params else None)
    return case


def cases():
    rng = random.Random(20261126)
    out = []
    out.append(mlp(Case("global-l2-clipped", "global-norm", p=2, threshold=1.0), rng, 2.0))
    out.append(mlp(Case("global-l2-below", "global-norm", p=2, threshold=50.0), rng, 2.0))
    out.append(mlp(Case("global-l1-clipped", "global-norm", p=1, threshold=3.0), rng))
    out.append(mlp(Case("global-l3-clipped", "global-norm", p=3, threshold=0.25), rng))
    out.append(mlp(Case("global-linf-clipped", "global-norm", p="inf", threshold=0.5), rng))
    out.append(mlp(Case("global-l2-pytorch-clipped", "global-norm", p=2, threshold=1.0, epsilon=1e-6), rng, 2.0))
    # PyTorch multiplies by c/(n + 1e-6) < 1 even when n is just below c
    c = Case("global-l2-pytorch-just-below", "global-norm", p=2, threshold=1.0, epsilon=1e-6)
    g = gauss(rng, 12)
    n = float(norm([f32(v) for v in g], 2))
    c.tensor("w", [12], [v * (1 - 3e-7) / n for v in g])
    out.append(c)
    out.append(mlp(Case("per-tensor-l2", "norm", p=2, threshold=2.5), rng, 0.8))
    out.append(mlp(Case("per-group-l2", "group-norm", p=2, threshold=2.0), rng, 1.0))
    out.append(mlp(Case("per-group-linf", "group-norm", p="inf", threshold=1.0), rng, 1.0))
    out.append(mlp(Case("value", "value", threshold=0.5), rng, 1.0))
    c = mlp(Case("agc", "agc", **{"lambda": 0.5, "exclude": ["fc2.bias"]}), rng, 1.0, params=True)
    c.tensor("conv.weight", [2, 3, 2, 2], gauss(rng, 24, 0.3), gauss(rng, 24, 0.2))
    c.tensor("zero_init.weight", [3, 2], gauss(rng, 6, 1e-2), [0.0] * 6)
    out.append(c)
    c = mlp(Case("renormalize-per-tensor", "renormalize-norm"), rng, 3.0)
    c.tensor("zero.bias", [3], [0.0, 0.0, 0.0])
    out.append(c)
    out.append(mlp(Case("renormalize-per-group", "renormalize-group-norm"), rng, 0.01))
    c = Case("global-l2-huge-values", "global-norm", p=2, threshold=1.0)
    c.tensor("huge", [2, 3], [3e38, -3e38, 2.5e38, 1e38, -3.3e38, 3e38])
    c.tensor("empty", [0], [])
    c.tensor("scalar", [], [1e-3])
    out.append(c)
    c = Case("global-l2-huge-to-tiny-threshold", "global-norm", p=2, threshold=1e-3)
    c.tensor("huge", [70], [3e38 * (1 - i / 100) * (-1) ** i for i in range(70)])
    out.append(c)
    c = Case("global-l2-huge-to-subnormal-results", "global-norm", p=2, threshold=1e-40)
    c.tensor("huge", [4], [3e38, -2e38, 1e38, 1e30])
    out.append(c)
    c = Case("per-tensor-huge-to-tiny-threshold", "norm", p=2, threshold=1e-6)
    c.tensor("huge", [3], [3.3e38, 3e38, -1e37])
    c.tensor("normal", [2], [3.0, 4.0])
    out.append(c)
    c = Case("global-l2-tiny-values", "global-norm", p=2, threshold=1e-30)
    c.tensor("tiny", [5], [1e-25, -2e-25, 3e-26, 1e-44, 0.0])
    out.append(c)
    return out


def main():
    lines = ["# Golden values for gradclip-core, generated by generate_golden.py from the published",
             "# formulas with exact arithmetic. Do not edit; regenerate with:",
             "#   python3 generate_golden.py > golden.txt",
             "# Floats are float32 values written as the shortest decimal of their double value."]
    for case in cases():
        case.write(lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
