// The model math on the webgpu backend (Dawn), against the same float64 references as the CPU
// tests. In CI this runs on a software adapter (Mesa lavapipe): the GPU code path, shaders and
// readback, executed on the CPU. Small sizes: lavapipe does 2-3 GFLOP/s.
// Tolerances: the CPU tests' own (norm-wise relative, as assertCloseNorm): forward 2e-6,
// JVP/VJP/tf.grad 1e-5, SGD losses and trajectories 1e-5, Taylor C^{0,1..3} 3e-5 vs
// float64 jets; 1e-3 vs finite-difference Hessian / third-derivative contractions (FD noise).
import assert from 'node:assert/strict';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { ACTIVATIONS } from '../../stages/model/activations.ts';
import {
  PairTrainer, assertFitsBackend, disposeParams, forward, hostToParams, initHostParams, jvp, vjp,
  type MlpSpec, type Parameterization, type Params,
} from '../../stages/model/mlp.ts';
import { derivativeCorrelationsAsync } from '../../stages/model/taylor.ts';
import { assertCloseNorm, contract2, contract3, flatFromHost, grad64, hessianFd, jvp64, makeRef, out64, testValues, thirdFd, vjp64, type Ref64 } from './ref64.ts';
import { jets64 } from './taylor64.ts';
import { probeAdapterSync } from '../../stages/model/backends/webgpu.ts';

const quiet = { log: (): void => {} };
const PARAMS: Parameterization[] = ['ntk', 'standard'];
const [DIN, WIDTH, DOUT, BATCH] = [3, 4, 3, 4];
/** CI (.ci/run) sets this: there a missing adapter is a failure, not a skip. */
const REQUIRED = process.env.WEAKCORR_REQUIRE_WEBGPU === '1';

async function read(t: tf.Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.data());
}

async function flat(p: Params): Promise<Float64Array> {
  const parts = await Promise.all(p.flatMap((l) => [l.W.data(), l.b.data()]));
  return Float64Array.from(parts.flatMap((a) => Array.from(a)));
}

function fromFlat(ref: Ref64, v: Float64Array): Params {
  return ref.sizes.slice(0, -1).map((nIn, l) => ({
    W: tf.tensor2d(Float32Array.from(v.subarray(ref.offW[l], ref.offW[l] + nIn * ref.sizes[l + 1])), [nIn, ref.sizes[l + 1]]),
    b: tf.tensor1d(Float32Array.from(v.subarray(ref.offB[l], ref.offB[l] + ref.sizes[l + 1]))),
  }));
}

const f32 = (v: Float64Array): Float64Array => Float64Array.from(Float32Array.from(v));
const rows = (x: Float64Array, n: number, d: number): Float64Array[] => Array.from({ length: n }, (_, b) => x.subarray(b * d, (b + 1) * d));
const cat = (parts: Float64Array[]): Float64Array => Float64Array.from(parts.flatMap((p) => Array.from(p)));

describe('model on webgpu (Dawn; a software adapter in CI)', function () {
  this.timeout(300_000);

  before(async function () {
    const a = probeAdapterSync();
    if (!a.ok) {
      if (REQUIRED) throw new Error(`WEAKCORR_REQUIRE_WEBGPU=1 but there is no WebGPU adapter: ${a.reason}`);
      console.log(`      skipped: ${a.reason}`);
      this.skip();
    }
    const info = await selectBackend('webgpu', quiet);
    assert.equal(tf.getBackend(), 'webgpu');
    assert.match(info.device, /^WebGPU /);
    assert.equal(tf.env().getBool('WEBGPU_CPU_FORWARD'), false, 'small tensors must not silently run on the CPU');
  });
  after(async () => {
    await selectBackend('cpu', quiet);
  });

  for (const activation of ACTIVATIONS) for (const parameterization of PARAMS) for (const depth of [1, 2, 3]) {
    it(`${activation} ${parameterization} L=${depth}: forward, JVP, VJP, tf.grad vs float64`, async () => {
      const spec: MlpSpec = { dIn: DIN, width: WIDTH, depth, dOut: DOUT, activation, parameterization };
      const ref = makeRef(spec);
      const host = initHostParams(spec, 13);
      const theta = flatFromHost(host);
      const params = hostToParams(host);
      const x64 = f32(testValues(BATCH * DIN, 5).map((v) => 1.5 * v));
      const x = tf.tensor2d(Float32Array.from(x64), [BATCH, DIN]);
      const v = f32(testValues(ref.P, 300));
      const cot64 = f32(testValues(BATCH * DOUT, 400));
      const tangent = fromFlat(ref, v);
      const cot = tf.tensor2d(Float32Array.from(cot64), [BATCH, DOUT]);
      const xr = rows(x64, BATCH, DIN);

      const f = forward(spec, params, x);
      assertCloseNorm(await read(f), cat(xr.map((xb) => out64(ref, theta, xb))), 2e-6, 'forward');
      const j = jvp(spec, params, x, tangent);
      assertCloseNorm(await read(j.jvp), cat(xr.map((xb) => jvp64(ref, theta, xb, v))), 1e-5, 'jvp');
      const g = vjp(spec, params, x, cot);
      const want = new Float64Array(ref.P);
      xr.forEach((xb, b) => vjp64(ref, theta, xb, cot64.subarray(b * DOUT, (b + 1) * DOUT)).forEach((q, k) => (want[k] += q)));
      const got = await flat(g);
      assertCloseNorm(got, want, 1e-5, 'vjp');
      const tg = tf.grads((...ts: tf.Tensor[]) => {
        const ps: Params = [];
        for (let l = 0; l < ts.length; l += 2) ps.push({ W: ts[l] as tf.Tensor2D, b: ts[l + 1] as tf.Tensor1D });
        return tf.tidy(() => forward(spec, ps, x).mul(cot).sum());
      })(params.flatMap((l) => [l.W, l.b]));
      assertCloseNorm(got, cat(await Promise.all(tg.map(read))), 1e-5, 'vjp vs tf.grad');
      tf.dispose([f, j.out, j.jvp, x, cot, ...tg]);
      [g, params, tangent].forEach(disposeParams);
    });
  }

  for (const [activation, parameterization] of [['gelu', 'standard'], ['erf', 'ntk']] as const) {
    it(`${activation} ${parameterization}: net and linearization SGD trajectories match float64`, async () => {
      const spec: MlpSpec = { dIn: DIN, width: WIDTH, depth: 2, dOut: DOUT, activation, parameterization };
      const ref = makeRef(spec);
      const host = initHostParams(spec, 3);
      const theta0 = flatFromHost(host);
      const p0 = hostToParams(host);
      const lr = 0.3;
      const tr = new PairTrainer(spec, p0, { lr, batch: BATCH });
      disposeParams(p0);
      let th = Float64Array.from(theta0);
      let del = new Float64Array(ref.P);
      for (let k = 0; k < 3; k++) {
        const x64 = f32(testValues(BATCH * DIN, 21 + k).map((v) => 1.5 * v));
        const y64 = f32(testValues(BATCH * DOUT, 50 + k));
        const x = tf.tensor2d(Float32Array.from(x64), [BATCH, DIN]);
        const y = tf.tensor2d(Float32Array.from(y64), [BATCH, DOUT]);
        const res = await tr.stepAsync(x, y);
        tf.dispose([x, y]);
        const gN = new Float64Array(ref.P);
        const gL = new Float64Array(ref.P);
        let lNet = 0;
        rows(x64, BATCH, DIN).forEach((xb, b) => {
          const yb = y64.subarray(b * DOUT, (b + 1) * DOUT);
          const fn = out64(ref, th, xb);
          const fl = out64(ref, theta0, xb).map((o, i) => o + jvp64(ref, theta0, xb, del)[i]);
          fn.forEach((o, i) => (lNet += (o - yb[i]) ** 2 / (BATCH * DOUT)));
          vjp64(ref, th, xb, fn.map((o, i) => (2 * (o - yb[i])) / (BATCH * DOUT))).forEach((q, i) => (gN[i] += q));
          vjp64(ref, theta0, xb, fl.map((o, i) => (2 * (o - yb[i])) / (BATCH * DOUT))).forEach((q, i) => (gL[i] += q));
        });
        assert.ok(Math.abs(res.lossNet - lNet) <= 1e-5 * lNet, `loss ${res.lossNet} vs ${lNet}`);
        th = th.map((t, q) => t - lr * gN[q]);
        del = del.map((t, q) => t - lr * gL[q]);
      }
      assertCloseNorm(await flat(tr.netParams()), th, 1e-5, 'net params');
      assertCloseNorm(await flat(tr.linDelta()), del, 1e-5, 'lin delta');
      tr.dispose();
    });
  }

  for (const activation of ['gelu', 'erf', 'sigmoid', 'relu'] as const) {
    it(`${activation}: Taylor-mode C^{0,1..3} vs float64 jets and vs finite-difference Hessian / third derivative`, async () => {
      const spec: MlpSpec = { dIn: 2, width: 3, depth: 2, dOut: 2, activation, parameterization: 'ntk' };
      const ref = makeRef(spec);
      const host = initHostParams(spec, 9);
      const theta = flatFromHost(host);
      const params = hostToParams(host);
      const x64 = f32(testValues(2 * 2, 3).map((v) => 1.5 * v));
      const xt = tf.tensor2d(Float32Array.from(x64), [2, 2]);
      const eta = 0.7;
      const res = await derivativeCorrelationsAsync(spec, params, xt, { eta });
      const want = [new Float64Array(4), new Float64Array(4), new Float64Array(4)];
      const fd = [new Float64Array(4), new Float64Array(4)];
      rows(x64, 2, 2).forEach((xb, b) => [0, 1].forEach((i) => {
        const g = grad64(ref, theta, xb, i);
        const jt = jets64(ref, theta, xb, g);
        for (let d = 1; d <= 3; d++) want[d - 1][b * 2 + i] = eta ** d * jt[d][i];
        fd[0][b * 2 + i] = (eta ** 2 * contract2(hessianFd(ref, theta, xb, i), g).value) / 2;
        fd[1][b * 2 + i] = (eta ** 3 * contract3(thirdFd(ref, theta, xb, i), g).value) / 6;
      }));
      assertCloseNorm(res.c01, want[0], 3e-5, 'C01');
      assertCloseNorm(res.c02, want[1], 3e-5, 'C02');
      assertCloseNorm(res.c03, want[2], 3e-5, 'C03');
      assertCloseNorm(res.c02, fd[0], 1e-3, 'C02 vs finite differences');
      assertCloseNorm(res.c03, fd[1], 1e-3, 'C03 vs finite differences');
      disposeParams(params);
      xt.dispose();
    });
  }

  it("refuses, before training, a weight matrix larger than the adapter's storage-buffer binding limit", () => {
    const limit = (tf.backend() as unknown as { device: { limits: { maxStorageBufferBindingSize: number } } }).device.limits.maxStorageBufferBindingSize;
    const widest: MlpSpec = { dIn: 784, width: 19484, depth: 2, activation: 'gelu', parameterization: 'standard' };
    if (limit < 4 * 19484 ** 2) {
      assert.throws(() => assertFitsBackend(widest, 128, 'pair'),
        new RegExp(`tensor W_1 \\(19484 x 19484 float32, 1\\.41 GiB\\) exceeds the WebGPU device's maxStorageBufferBindingSize \\(${(limit / 1024 ** 2).toFixed(1)} MiB\\)`));
      assert.throws(() => new PairTrainer(widest, [], { lr: 0.1 }), /tensor W_1 .* exceeds/);
    }
    // A net whose largest tensor fits passes.
    const n = Math.floor(Math.sqrt(limit / 4 / 2));
    assertFitsBackend({ ...widest, width: n }, 128, 'pair');
  });
});
