#!/usr/bin/env python3
"""PyTorch reference for one A.2 run (science.md, "Protocols"): the same theta0, batches and
test set as weakcorr's train-a2 task, exported by the test to a folder. Trains the net and its
first-order linearization side by side with plain SGD and prints the final metrics as JSON.

The linearization's forward is f(x; theta0) + J(theta0) delta (forward-mode tangent propagation, written out),
and its gradient J(theta0)^T dL/df_lin (a VJP at theta0), exactly as science.md states.

spec.json's optional wScale and bScale (one per layer; default 1: the standard parameterization)
scale each layer as z = wScale W a + bScale b, with W and b the trained parameters: the NTK
parameterization of the a2-ntk protocol (science.md, "Networks").

With --float64 everything (theta0 read as float32 and widened, the images, the SGD updates, the
evaluation) is float64: the reference the float32 implementations are compared with (issue 19).

usage: a2_reference.py DIR [--float64]   (DIR holds spec.json, theta0.f32, train_rows.u8,
                              train_onehot.f32, test_images.u8, test_onehot.f32)
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))


DTYPE = torch.float64 if "--float64" in sys.argv[2:] else torch.float32


def load(d):
    spec = json.load(open(os.path.join(d, "spec.json")))
    flat = np.fromfile(os.path.join(d, "theta0.f32"), dtype=np.float32)
    sizes = spec["sizes"]
    params, at = [], 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        W = flat[at:at + fan_in * fan_out].reshape(fan_in, fan_out); at += fan_in * fan_out
        b = flat[at:at + fan_out]; at += fan_out
        # nn.Linear keeps weight as [out, in]: weight = W^T.
        params += [torch.tensor(W.T.copy()).to(DTYPE), torch.tensor(b.copy()).to(DTYPE)]
    assert at == flat.size, "theta0 size does not match the layer sizes"
    d_in = sizes[0]
    rows = np.fromfile(os.path.join(d, "train_rows.u8"), dtype=np.uint8).reshape(-1, d_in)
    y = np.fromfile(os.path.join(d, "train_onehot.f32"), dtype=np.float32).reshape(-1, 10)
    tx = np.fromfile(os.path.join(d, "test_images.u8"), dtype=np.uint8).reshape(-1, d_in)
    ty = np.fromfile(os.path.join(d, "test_onehot.f32"), dtype=np.float32).reshape(-1, 10)
    to_x = lambda a: torch.tensor(a).to(DTYPE) / 255.0
    return spec, params, to_x(rows), torch.tensor(y).to(DTYPE), to_x(tx), torch.tensor(ty).to(DTYPE)


SQRT_HALF = 0.5 ** 0.5
INV_SQRT_2PI = (2 * 3.141592653589793) ** -0.5
DACT = {
    "gelu": lambda z: 0.5 * (1 + torch.erf(z * SQRT_HALF)) + z * INV_SQRT_2PI * torch.exp(-0.5 * z * z),
    "relu": lambda z: (z > 0).to(z.dtype),
    "erf": lambda z: (2 / 3.141592653589793 ** 0.5) * torch.exp(-z * z),
    "sigmoid": lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z)),
}


# Per-layer scales c_l, s_l of z = c_l W a + s_l b (set from spec.json in main; 1: standard).
W_SCALE, B_SCALE = None, None


def forward(params, x, act):
    a = x
    n_layers = len(params) // 2
    for l in range(n_layers):
        z = F.linear(a, W_SCALE[l] * params[2 * l], B_SCALE[l] * params[2 * l + 1])
        a = act(z) if l < n_layers - 1 else z
    return a


def main():
    global W_SCALE, B_SCALE
    spec, theta0, X, Y, TX, TY = load(sys.argv[1])
    n_layers = len(theta0) // 2
    W_SCALE = spec.get("wScale", [1.0] * n_layers)
    B_SCALE = spec.get("bScale", [1.0] * n_layers)
    assert len(W_SCALE) == n_layers and len(B_SCALE) == n_layers, "wScale/bScale need one entry per layer"
    act = {"gelu": lambda z: F.gelu(z), "relu": F.relu, "erf": torch.erf, "sigmoid": torch.sigmoid}[spec["activation"]]
    lr, batch, steps, scale = spec["lr"], spec["batch"], spec["steps"], spec["lossScale"]
    net = [p.clone() for p in theta0]
    delta = [torch.zeros_like(p) for p in theta0]
    theta0 = [p.clone().requires_grad_(True) for p in theta0]

    dact = DACT[spec["activation"]]
    th0 = [t.detach() for t in theta0]

    def f_lin(x):
        # f(x; theta0) + J(x; theta0) delta by explicit forward-mode tangent propagation (one extra
        # pass; torch.autograd.functional.jvp's double-backward trick cost ~4 passes at width 4096).
        a, da = x, None
        n_layers = len(th0) // 2
        for l in range(n_layers):
            c, sb = W_SCALE[l], B_SCALE[l]
            W, b, dW, db = c * th0[2 * l], sb * th0[2 * l + 1], c * delta[2 * l], sb * delta[2 * l + 1]
            z = F.linear(a, W, b)
            dz = F.linear(a, dW, db) + (F.linear(da, W) if da is not None else 0)
            if l < n_layers - 1:
                a, da = act(z), dact(z) * dz
            else:
                a, da = z, dz
        return a + da

    for s in range(steps):
        x, y = X[s * batch:(s + 1) * batch], Y[s * batch:(s + 1) * batch]
        # net: plain SGD
        ps = [p.requires_grad_(True) for p in net]
        loss = scale * F.mse_loss(forward(ps, x, act), y)
        grads = torch.autograd.grad(loss, ps)
        net = [(p - lr * g).detach() for p, g in zip(ps, grads)]
        # linearization: gradient J(theta0)^T dL/df_lin
        fl = f_lin(x).detach().requires_grad_(True)
        loss_lin = scale * F.mse_loss(fl, y)
        cot = torch.autograd.grad(loss_lin, fl)[0]
        f0 = forward(theta0, x, act)
        g_lin = torch.autograd.grad(f0, theta0, grad_outputs=cot)
        delta = [dl - lr * g for dl, g in zip(delta, g_lin)]

    with torch.no_grad():
        f_test = forward(net, TX, act)
    with torch.no_grad():
        fl_test = f_lin(TX)
    mse_test = ((f_test - fl_test) ** 2).sum(dim=1).mean().item()
    test_loss_net = (scale * F.mse_loss(f_test, TY)).item()
    test_loss_lin = (scale * F.mse_loss(fl_test, TY)).item()
    print(json.dumps({"mseTest": mse_test, "testLossNet": test_loss_net, "testLossLin": test_loss_lin, "torch": torch.__version__, "dtype": str(DTYPE)}))


if __name__ == "__main__":
    main()
