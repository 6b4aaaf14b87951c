"""The PyTorch peer of gradclip's bench command (TorchPeer.java drives it).

A long-lived child process speaking one line per request and one line per reply on
stdin/stdout, so that the bench can alternate a gradclip call and a PyTorch call round
by round on the same sizes, in the same moments of a shared machine.

On start it replies "ready <torch version> <default threads>", or "error <why>" when torch
cannot be imported. Requests:

  threads N           torch.set_num_threads(N); reply "ok <threads now>"
  setup FLOATS K      FLOATS floats in K gradients of [rows, 1024] (the rows split as the Java
                      side splits them), uniform in [-1, 1), seeded; reply "ok <total 2-norm>"
  round norm MAX      restore the gradients (untimed), time one
                      clip_grad_norm_(params, MAX, foreach=True); reply "time <ns> <total norm>"
  round value C       restore (untimed), time clip_grad_value_(params, C, foreach=True);
                      reply "time <ns> <max |g|>"
  round agc F         restore (untimed), time adaptive_clip_grad(params, F) below (unit-wise
                      AGC written the usual way, as timm's: eps 1e-3); reply
                      "time <ns> <norm of the gradients after / norm of the parameters>"
  quit                reply "bye" and exit

A request that fails is answered "error <type>: <message>" and the peer keeps reading.
"""
import math
import sys
import time

ROW = 1024
SEED = 11


def reply(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def split(floats, tensors):
    """The sizes in rows of each tensor, as Workloads.split in the bench."""
    if floats <= 0 or floats % ROW != 0:
        raise ValueError("floats must be a positive multiple of %d, got %d" % (ROW, floats))
    rows = floats // ROW
    if tensors < 1 or tensors > rows:
        raise ValueError("tensors must be in [1, %d], got %d" % (rows, tensors))
    each = rows // tensors
    return [rows - each * (tensors - 1) if t == tensors - 1 else each for t in range(tensors)]


def unitwise_norm(x):
    """L2 norm per unit: the whole tensor for rank <= 1, else over every dimension but the first."""
    if x.ndim <= 1:
        return x.norm(2.0)
    return x.norm(2.0, dim=tuple(range(1, x.ndim)), keepdim=True)


def adaptive_clip_grad(parameters, clip_factor, eps=1e-3):
    """Adaptive gradient clipping (Brock et al. 2021, arXiv:2102.06171) as PyTorch users write it
    (timm's adaptive_clip_grad): per unit, g <- g * (F * max(|w|, eps) / |g|) where |g| exceeds
    F * max(|w|, eps)."""
    torch = sys.modules["torch"]
    for p in parameters:
        if p.grad is None:
            continue
        w = p.detach()
        g = p.grad.detach()
        max_norm = unitwise_norm(w).clamp_(min=eps).mul_(clip_factor)
        grad_norm = unitwise_norm(g)
        clipped = g * (max_norm / grad_norm.clamp(min=1e-6))
        g.copy_(torch.where(grad_norm < max_norm, g, clipped))


class Peer:
    def __init__(self, torch):
        self.torch = torch
        self.params = []
        self.grads = []
        self.pristine = []

    def setup(self, floats, tensors):
        torch = self.torch
        self.params, self.grads, self.pristine = [], [], []
        generator = torch.Generator().manual_seed(SEED)
        sum_sq = 0.0
        for rows in split(floats, tensors):
            g = torch.rand((rows, ROW), generator=generator, dtype=torch.float32) * 2 - 1
            # the parameter's values, read by AGC only, uniform in [-1, 1) as well
            p = torch.nn.Parameter(torch.rand((rows, ROW), generator=generator, dtype=torch.float32) * 2 - 1)
            p.grad = g
            self.params.append(p)
            self.grads.append(g)
            self.pristine.append(g.clone())
            sum_sq += float(g.double().pow(2).sum())
        return math.sqrt(sum_sq)

    def restore(self):
        for g, p in zip(self.grads, self.pristine):
            g.copy_(p)

    def round(self, op, arg):
        clip = self.torch.nn.utils
        if not self.grads:
            raise RuntimeError("round before setup")
        self.restore()
        if op == "norm":
            t0 = time.perf_counter_ns()
            total = clip.clip_grad_norm_(self.params, arg, foreach=True)
            t1 = time.perf_counter_ns()
            return t1 - t0, float(total)
        if op == "value":
            t0 = time.perf_counter_ns()
            clip.clip_grad_value_(self.params, arg, foreach=True)
            t1 = time.perf_counter_ns()
            return t1 - t0, max(float(g.abs().max()) for g in self.grads)
        if op == "agc":
            t0 = time.perf_counter_ns()
            adaptive_clip_grad(self.params, arg)
            t1 = time.perf_counter_ns()
            # every unit of this data is clipped to F * |w_u|, so the norm after is F times the
            # parameters' norm: the check value is that ratio, F whatever the random values
            after = sum(float(g.double().pow(2).sum()) for g in self.grads)
            weights = sum(float(p.detach().double().pow(2).sum()) for p in self.params)
            return t1 - t0, math.sqrt(after / weights)
        raise ValueError("unknown op " + op)


def main():
    try:
        import torch
    except Exception as e:  # any failure to import is "no peer"
        reply("error cannot import torch: %s" % str(e).replace("\n", " "))
        return 0
    peer = Peer(torch)
    reply("ready %s %d" % (torch.__version__, torch.get_num_threads()))
    for line in sys.stdin:
        f = line.split()
        if not f:
            continue
        try:
            if f[0] == "quit":
                reply("bye")
                return 0
            elif f[0] == "threads":
                torch.set_num_threads(int(f[1]))
                reply("ok %d" % torch.get_num_threads())
            elif f[0] == "setup":
                reply("ok %r" % peer.setup(int(f[1]), int(f[2])))
            elif f[0] == "round":
                ns, check = peer.round(f[1], float(f[2]))
                reply("time %d %r" % (ns, check))
            else:
                reply("error ValueError: unknown request " + f[0])
        except Exception as e:
            reply("error %s: %s" % (type(e).__name__, str(e).replace("\n", " ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
