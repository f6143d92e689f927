#!/usr/bin/env python3
"""PyTorch float64 reference for one Corollary 4.0.1 teacher run (stages/protocols/corollary): the
same theta0 (raw N(0,1) weights, NTK scales c_l, s_l from spec.json), the same online batches and
monitored test samples, exported by test/protocols/corollary-torch.test.ts. Trains the net and its
linearization (f(theta0) + J(theta0) delta, by explicit tangent propagation) with plain SGD and
prints, per logged step, mean_x ||f - f_lin||^2 and the test losses of f and f_lin, as JSON.

usage: teacher_reference.py DIR   (DIR holds spec.json, theta0.f32, train_x.f32, train_y.f32, test_x.f32, test_y.f32)
"""
import json
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)
D = torch.float64


def main():
    d = sys.argv[1]
    spec = json.load(open(os.path.join(d, "spec.json")))
    sizes, wsc, bsc = spec["sizes"], spec["wScale"], spec["bScale"]
    flat = np.fromfile(os.path.join(d, "theta0.f32"), dtype=np.float32)
    th0, at = [], 0
    for fi, fo in zip(sizes[:-1], sizes[1:]):
        th0.append(torch.tensor(flat[at:at + fi * fo].reshape(fi, fo).copy()).to(D)); at += fi * fo
        th0.append(torch.tensor(flat[at:at + fo].copy()).to(D)); at += fo
    assert at == flat.size
    rd = lambda n, c: torch.tensor(np.fromfile(os.path.join(d, n), dtype=np.float32).reshape(-1, c)).to(D)
    X, Y, TX, TY = rd("train_x.f32", sizes[0]), rd("train_y.f32", sizes[-1]), rd("test_x.f32", sizes[0]), rd("test_y.f32", sizes[-1])
    L = len(th0) // 2

    def fwd(p, x, dp=None):
        a, da = x, None
        for l in range(L):
            W, b = p[2 * l], p[2 * l + 1]
            z = wsc[l] * (a @ W) + bsc[l] * b
            dz = None
            if dp is not None:
                dz = wsc[l] * (a @ dp[2 * l]) + bsc[l] * dp[2 * l + 1] + (wsc[l] * (da @ W) if da is not None else 0)
            if l < L - 1:
                a, da = torch.erf(z), (None if dz is None else (2 / np.pi ** 0.5) * torch.exp(-z * z) * dz)
            else:
                a, da = z, dz
        return a if dp is None else a + da

    lr, batch, steps, scale, every = spec["lr"], spec["batch"], spec["steps"], spec["lossScale"], spec["logEvery"]
    loss = lambda f, y: scale * ((f - y) ** 2).mean()
    net = [p.clone() for p in th0]
    delta = [torch.zeros_like(p) for p in th0]
    log = []
    for s in range(steps):
        x, y = X[s * batch:(s + 1) * batch], Y[s * batch:(s + 1) * batch]
        ps = [p.clone().requires_grad_(True) for p in net]
        g = torch.autograd.grad(loss(fwd(ps, x), y), ps)
        net = [(p - lr * gi).detach() for p, gi in zip(net, g)]
        fl = fwd(th0, x, delta).detach().requires_grad_(True)
        cot = torch.autograd.grad(loss(fl, y), fl)[0]
        t0 = [p.clone().requires_grad_(True) for p in th0]
        gl = torch.autograd.grad(fwd(t0, x), t0, grad_outputs=cot)
        delta = [dl - lr * gi for dl, gi in zip(delta, gl)]
        if s % every == 0:
            with torch.no_grad():
                f, flin = fwd(net, TX), fwd(th0, TX, delta)
                log.append({"step": s, "mseMonitor": ((f - flin) ** 2).sum(dim=1).mean().item(),
                            "testLossNet": loss(f, TY).item(), "testLossLin": loss(flin, TY).item()})
    print(json.dumps({"log": log, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
