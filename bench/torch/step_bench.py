#!/usr/bin/env python3
"""ms per side-by-side training step (net SGD step + linearized SGD step) of 784-n-n-10 GELU,
batch 128, in PyTorch CPU, written with the same explicit algorithm as weakcorr (forward with
trace, explicit backprop; linearized step = tangent propagation along delta + backprop at theta0),
so the ratio compares backends, not algorithms. Prints one JSON line per width.

usage: step_bench.py THREADS WIDTH [WIDTH...]
"""
import json
import math
import sys
import time

import torch

threads = int(sys.argv[1])
torch.set_num_threads(threads)
B, D_IN, D_OUT, LR = 128, 784, 10, 0.1
SQRT2 = math.sqrt(2.0)


def gelu(z):
    return z * 0.5 * (1 + torch.erf(z / SQRT2))


def dgelu(z):
    return 0.5 * (1 + torch.erf(z / SQRT2)) + z * torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def trace(params, x):
    a, zs, acts, ds = x, [], [x], []
    for l, (W, b) in enumerate(params):
        z = a @ W + b
        zs.append(z)
        if l < len(params) - 1:
            ds.append(dgelu(z))
            a = gelu(z)
            acts.append(a)
    return zs, acts, ds


def backprop(params, acts, ds, cot):
    grads, delta = [None] * len(params), cot
    for l in range(len(params) - 1, -1, -1):
        grads[l] = (acts[l].t() @ delta, delta.sum(0))
        if l > 0:
            delta = (delta @ params[l][0].t()) * ds[l - 1]
    return grads


def step_net(params, x, y):
    zs, acts, ds = trace(params, x)
    cot = 2 * (zs[-1] - y) / y.numel()
    g = backprop(params, acts, ds, cot)
    return [(W - LR * gW, b - LR * gb) for (W, b), (gW, gb) in zip(params, g)]


def step_lin(theta0, delta, x, y):
    zs, acts, ds = trace(theta0, x)
    da, dz = None, None
    for l, ((W, b), (dW, db)) in enumerate(zip(theta0, delta)):
        m = acts[l] @ dW
        if da is not None:
            m = m + da @ W
        dz = m + db
        if l < len(theta0) - 1:
            da = ds[l] * dz
    cot = 2 * (zs[-1] + dz - y) / y.numel()
    g = backprop(theta0, acts, ds, cot)
    return [(dW - LR * gW, db - LR * gb) for (dW, db), (gW, gb) in zip(delta, g)]


for n in map(int, sys.argv[2:]):
    sizes = [D_IN, n, n, D_OUT]
    theta0 = [((torch.rand(i, o) * 2 - 1) / math.sqrt(i), (torch.rand(o) * 2 - 1) / math.sqrt(i)) for i, o in zip(sizes[:-1], sizes[1:])]
    delta = [(torch.zeros_like(W), torch.zeros_like(b)) for W, b in theta0]
    net = theta0
    x, y = torch.rand(B, D_IN), torch.rand(B, D_OUT)
    def med(fn, reps=7):
        fn()
        ts = []
        for _ in range(reps):
            t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
        return sorted(ts)[len(ts) // 2] * 1000
    with torch.no_grad():
        net_ms = med(lambda: step_net(net, x, y))
        lin_ms = med(lambda: step_lin(theta0, delta, x, y))
        A, W = torch.rand(B, n), torch.rand(n, n)
        mm_ms = med(lambda: A @ W)
    print(json.dumps({"width": n, "threads": threads, "net_ms": net_ms, "lin_ms": lin_ms, "pair_ms": net_ms + lin_ms,
                      "matmul_gflops": 2 * B * n * n / mm_ms / 1e6, "torch": torch.__version__, "blas": torch.__config__.show().count("openblas") > 0}))
