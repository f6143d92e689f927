#!/usr/bin/env python3
"""ms per side-by-side training step (net SGD step + linearized SGD step) of 784-n-n-10 GELU,
batch 128, in PyTorch CPU, written with the same explicit algorithm as weakcorr (forward with
trace, explicit backprop; linearized step = tangent propagation along delta + backprop at theta0),
so the ratio compares backends, not algorithms.

Written as a PyTorch user writes a training step: parameters updated in place as
torch.optim.SGD does (p.add_(grad, alpha=-lr)), gradients written into buffers allocated once
(like p.grad), no fresh weight-sized tensor per step. Fresh multi-MB allocations per step are
what this sandbox penalizes (page faults), so the out-of-place form measured the machine, not
PyTorch.

usage: step_bench.py THREADS WIDTH [WIDTH...]   one JSON line per width (median of 7 + spread)
       step_bench.py --serve THREADS            line protocol for interleaved runs (bench/train.ts):
           'init N' -> {"width": N}; 'step' -> {"net_ms": .., "lin_ms": ..}; 'quit'
The first line printed is the settings: threads, BLAS, its core (openblas_get_corename), OpenBLAS env.
"""
import json
import math
import os
import sys
import time

import torch

B, D_IN, D_OUT, LR = 128, 784, 10, 0.1
SQRT2 = math.sqrt(2.0)
SQRT2PI = math.sqrt(2 * math.pi)


def loaded_blas():
    """The BLAS library actually mapped into this process (Debian: libblas.so.3's alternative)."""
    torch.rand(8, 8) @ torch.rand(8, 8)
    with open("/proc/self/maps") as f:
        libs = sorted({l.split()[-1] for l in f if "blas" in l.lower() and "/" in l})
    return [os.path.realpath(p) for p in libs]


def blas_core():
    """The BLAS core this process computes with: threadpoolctl when installed, else OpenBLAS's own
    openblas_get_corename() / openblas_get_config() through ctypes on the mapped library."""
    try:
        import threadpoolctl
        info = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        if info:
            return {"core": info[0].get("architecture"), "config": f"{info[0].get('internal_api')} {info[0].get('version')}",
                    "blas_threads": info[0].get("num_threads"), "via": "threadpoolctl"}
    except ImportError:
        pass
    import ctypes
    for path in loaded_blas():
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            return {"core": lib.openblas_get_corename().decode(), "config": lib.openblas_get_config().decode(),
                    "blas_threads": lib.openblas_get_num_threads(), "via": f"ctypes on {path}"}
        except (OSError, AttributeError):
            continue
    return {"core": None, "config": None, "blas_threads": None, "via": "no OpenBLAS mapped (torch.__config__: " + torch.__config__.show().split("BLAS_INFO=")[-1].split(",")[0] + ")"}


def settings(threads):
    cfg = torch.__config__.show()
    blas = next((l.split("=", 1)[1].strip().rstrip(",") for l in cfg.replace(",", "\n").splitlines() if "BLAS_INFO" in l), "unknown")
    return {"blas_loaded": loaded_blas(), "settings": True, "torch": torch.__version__, "threads": threads, "torch_threads": torch.get_num_threads(),
            "blas": blas, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), **blas_core()}


def gelu(z):
    return z * 0.5 * (1 + torch.erf(z / SQRT2))


def dgelu(z):
    return 0.5 * (1 + torch.erf(z / SQRT2)) + z * torch.exp(-0.5 * z * z) / SQRT2PI


class Pair:
    """The net and its linearization, with SGD state kept in place."""

    def __init__(self, n):
        sizes = [D_IN, n, n, D_OUT]
        g = torch.Generator().manual_seed(0)
        self.theta0 = [((torch.rand(i, o, generator=g) * 2 - 1) / math.sqrt(i), (torch.rand(o, generator=g) * 2 - 1) / math.sqrt(i))
                       for i, o in zip(sizes[:-1], sizes[1:])]
        self.net = [(W.clone(), b.clone()) for W, b in self.theta0]
        self.delta = [(torch.zeros_like(W), torch.zeros_like(b)) for W, b in self.theta0]
        # Gradient buffers, allocated once (the role of p.grad).
        self.grads = [(torch.empty_like(W), torch.empty_like(b)) for W, b in self.theta0]
        self.x, self.y = torch.rand(B, D_IN, generator=g), torch.rand(B, D_OUT, generator=g)

    @staticmethod
    def trace(params, x):
        a, zs, acts, ds = x, [], [x], []
        for l, (W, b) in enumerate(params):
            z = torch.addmm(b, a, W)
            zs.append(z)
            if l < len(params) - 1:
                ds.append(dgelu(z))
                a = gelu(z)
                acts.append(a)
        return zs, acts, ds

    def descend(self, params, acts, ds, cot, target):
        """Backprop cot through the trace at params; target -= LR * grad, in place."""
        delta = cot
        for l in range(len(params) - 1, -1, -1):
            gW, gb = self.grads[l]
            torch.mm(acts[l].t(), delta, out=gW)
            torch.sum(delta, 0, out=gb)
            if l > 0:
                delta = (delta @ params[l][0].t()) * ds[l - 1]
            # Updated after its use in the line above: the net can be stepped while backpropagated.
            target[l][0].add_(gW, alpha=-LR)
            target[l][1].add_(gb, alpha=-LR)

    def step_net(self):
        zs, acts, ds = self.trace(self.net, self.x)
        cot = 2 * (zs[-1] - self.y) / self.y.numel()
        self.descend(self.net, acts, ds, cot, self.net)

    def step_lin(self):
        zs, acts, ds = self.trace(self.theta0, self.x)
        da, dz = None, None
        for l, ((W, b), (dW, db)) in enumerate(zip(self.theta0, self.delta)):
            m = acts[l] @ dW
            if da is not None:
                m.addmm_(da, W)
            dz = m.add_(db)
            if l < len(self.theta0) - 1:
                da = ds[l] * dz
        cot = 2 * (zs[-1] + dz - self.y) / self.y.numel()
        self.descend(self.theta0, acts, ds, cot, self.delta)


def timed(fn):
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def main():
    serve = sys.argv[1] == "--serve"
    threads = int(sys.argv[2] if serve else sys.argv[1])
    torch.set_num_threads(threads)
    print(json.dumps(settings(threads)), flush=True)
    with torch.no_grad():
        if serve:
            pair = None
            for line in sys.stdin:
                cmd = line.split()
                if not cmd or cmd[0] == "quit":
                    break
                if cmd[0] == "init":
                    pair = Pair(int(cmd[1]))
                    pair.step_net()  # warm-up
                    pair.step_lin()
                    print(json.dumps({"width": int(cmd[1])}), flush=True)
                elif cmd[0] == "step":
                    print(json.dumps({"net_ms": timed(pair.step_net), "lin_ms": timed(pair.step_lin)}), flush=True)
            return
        for n in map(int, sys.argv[2:]):
            pair = Pair(n)
            pair.step_net()
            pair.step_lin()
            ts = sorted(timed(pair.step_net) + timed(pair.step_lin) for _ in range(7))
            A, W = torch.rand(B, n), torch.rand(n, n)
            mm = sorted(timed(lambda: A @ W) for _ in range(7))
            print(json.dumps({"width": n, "threads": threads, "pair_ms": ts[3], "pair_ms_min": ts[0], "pair_ms_max": ts[-1],
                              "matmul_gflops": 2 * B * n * n / mm[3] / 1e6}), flush=True)


if __name__ == "__main__":
    main()
