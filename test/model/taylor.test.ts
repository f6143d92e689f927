import assert from 'node:assert/strict';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { ACTIVATIONS } from '../../stages/model/activations.ts';
import { disposeParams, forward, hostToParams, initHostParams, paramCounts, type MlpSpec, type Parameterization, type Params } from '../../stages/model/mlp.ts';
import { derivativeCorrelations, sampleParameterSet } from '../../stages/model/taylor.ts';
import { assertCloseNorm, contract2, contract3, flatFromHost, grad64, hessianFd, makeRef, testValues, thirdFd } from './ref64.ts';
import { jets64 } from './taylor64.ts';
import { probeOpenblas } from '../../stages/model/backends/openblas.ts';

// blas (OpenBLAS's sgemm as the wasm matmul) where the library and koffi load.
const CPU_BACKENDS = ['cpu', 'wasm', ...(probeOpenblas().ok ? ['blas'] as const : [])] as const;

const quiet = { log: (): void => {} };
const PARAMS: Parameterization[] = ['ntk', 'standard', 'meanfield'];
// float32 Taylor values vs float64: norm-wise relative tolerance over the (sample, output) rows.
const F32_TOL = 3e-5;

function inputs(seed: number, batch: number, dIn: number): Float64Array {
  // float32-representable so the tfjs and float64 sides see the same x.
  return Float64Array.from(Float32Array.from(testValues(batch * dIn, seed).map((v) => 1.5 * v)));
}

function maskOf(indices: number[], P: number): Uint8Array {
  const m = new Uint8Array(P);
  for (const k of indices) m[k] = 1;
  return m;
}

describe('model/taylor: float64 Taylor mode vs full Hessian / third-derivative tensors', () => {
  for (const activation of ACTIVATIONS) for (const parameterization of PARAMS) for (const depth of [1, 2, 3]) {
    it(`${activation} ${parameterization} L=${depth}`, () => {
      const spec: MlpSpec = { dIn: 2, width: 3, depth, dOut: 2, activation, parameterization };
      const ref = makeRef(spec);
      const theta = flatFromHost(initHostParams(spec, 7 + depth));
      const x = inputs(3, 2, 2);
      const D = sampleParameterSet(spec, 4, 9);
      const mask = maskOf(D.indices, ref.P);
      for (let b = 0; b < 2; b++) {
        const xb = x.subarray(2 * b, 2 * b + 2);
        for (let i = 0; i < 2; i++) {
          const g = grad64(ref, theta, xb, i);
          const H = hessianFd(ref, theta, xb, i);
          const T = thirdFd(ref, theta, xb, i);
          const jt = jets64(ref, theta, xb, g);
          const tag = `x${b} f${i}`;
          const gg = g.reduce((s, v) => s + v * v, 0);
          assert.ok(Math.abs(jt[1][i] - gg) <= 1e-12 * gg, `${tag}: f^(1) = ||g||^2`);
          // relu only: f is piecewise polynomial in theta, so T[g,g,g] can be exactly 0 (L = 1)
          // and the relative check would compare FD noise with FD noise. Absolute floors sized
          // ~30x above the measured FD noise (entries of H ~1e-11, of T ~1e-10 absolute).
          const g1 = g.reduce((s, v) => s + Math.abs(v), 0);
          const floor2 = activation === 'relu' ? 1e-11 * g1 ** 2 : 0;
          const floor3 = activation === 'relu' ? 1e-9 * g1 ** 3 : 0;
          const h2 = contract2(H, g);
          const t3 = contract3(T, g);
          assert.ok(Math.abs(2 * jt[2][i] - h2.value) <= 1e-6 * h2.scale + floor2, `${tag}: 2 f^(2) ${2 * jt[2][i]} vs g'Hg ${h2.value} (scale ${h2.scale})`);
          assert.ok(Math.abs(6 * jt[3][i] - t3.value) <= 1e-6 * t3.scale + floor3, `${tag}: 6 f^(3) ${6 * jt[3][i]} vs T[g,g,g] ${t3.value} (scale ${t3.scale})`);
          // Masked direction = the sampled estimator's sums.
          const gm = g.map((v, k) => (mask[k] ? v : 0));
          const jm = jets64(ref, theta, xb, gm);
          const h2m = contract2(H, g, mask);
          const t3m = contract3(T, g, mask);
          assert.ok(Math.abs(2 * jm[2][i] - h2m.value) <= 1e-6 * h2m.scale + floor2, `${tag}: masked 2 f^(2)`);
          assert.ok(Math.abs(6 * jm[3][i] - t3m.value) <= 1e-6 * t3m.scale + floor3, `${tag}: masked 6 f^(3)`);
        }
      }
    });
  }
});

function refRows(spec: MlpSpec, theta: Float64Array, x: Float64Array, batch: number, outputs: number[], mask?: Uint8Array): Float64Array[] {
  const ref = makeRef(spec);
  const rows = [new Float64Array(batch * outputs.length), new Float64Array(batch * outputs.length), new Float64Array(batch * outputs.length)];
  for (let b = 0; b < batch; b++) {
    const xb = x.subarray(b * spec.dIn, (b + 1) * spec.dIn);
    outputs.forEach((i, k) => {
      let g = grad64(ref, theta, xb, i);
      if (mask) g = g.map((v, q) => (mask[q] ? v : 0));
      const jt = jets64(ref, theta, xb, g);
      for (let d = 1; d <= 3; d++) rows[d - 1][b * outputs.length + k] = jt[d][i];
    });
  }
  return rows;
}

for (const backend of CPU_BACKENDS) {
  describe(`model/taylor: tfjs (${backend}) vs float64 Taylor mode`, () => {
    before(async () => {
      await selectBackend(backend, quiet);
    });
    after(async () => {
      await selectBackend('cpu', quiet);
    });

    for (const activation of ACTIVATIONS) for (const parameterization of PARAMS) for (const depth of [1, 2, 3]) {
      it(`${activation} ${parameterization} L=${depth}: exact C^{0,1..3} and the sampled estimator`, () => {
        const spec: MlpSpec = { dIn: 3, width: 5, depth, dOut: 4, activation, parameterization };
        const host = initHostParams(spec, 7 + depth);
        const theta = flatFromHost(host);
        const params = hostToParams(host);
        const batch = 3;
        const x = inputs(4, batch, 3);
        const xt = tf.tensor2d(Float32Array.from(x), [batch, 3]);
        const eta = 0.7;
        const n0 = tf.memory().numTensors;
        const res = derivativeCorrelations(spec, params, xt, { eta, sampled: { perLayer: 5, seed: 3 } });
        assert.equal(tf.memory().numTensors, n0, 'no leaked tensors');
        const outputs = [0, 1, 2, 3];
        const [f1, f2, f3] = refRows(spec, theta, x, batch, outputs);
        assertCloseNorm(res.c01, f1.map((v) => eta * v), F32_TOL, 'C01');
        assertCloseNorm(res.c02, f2.map((v) => eta ** 2 * v), F32_TOL, 'C02');
        assertCloseNorm(res.c03, f3.map((v) => eta ** 3 * v), F32_TOL, 'C03');
        const rms = (v: Float64Array): number => Math.sqrt(v.reduce((s, q) => s + q * q, 0) / v.length);
        assert.ok(Math.abs(res.rms.c02 - rms(res.c02)) <= 1e-12 * rms(res.c02));

        const s = res.sampled!;
        const P = makeRef(spec).P;
        const mask = maskOf(s.set.indices, P);
        const D = s.set.size;
        assert.equal(D, paramCounts(spec).perLayer.reduce((acc, N) => acc + Math.min(5, N), 0));
        const [m1, m2, m3] = refRows(spec, theta, x, batch, outputs, mask);
        assertCloseNorm(s.sum1, m1, F32_TOL, 'sampled sum1');
        assertCloseNorm(s.sum2, m2.map((v) => 2 * v), F32_TOL, 'sampled sum2');
        assertCloseNorm(s.sum3, m3.map((v) => 6 * v), F32_TOL, 'sampled sum3');
        assertCloseNorm(s.c02, m2.map((v) => (2 * v) / D ** 2), F32_TOL, 'sampled C02 = sum2 / |D|^2');
        assertCloseNorm(s.c03, m3.map((v) => (6 * v) / D ** 3), F32_TOL, 'sampled C03 = sum3 / |D|^3');
        disposeParams(params);
        xt.dispose();
      });
    }

    it('D = all parameters: sampled sums / |D|^d reproduce the exact values', () => {
      const spec: MlpSpec = { dIn: 4, width: 6, depth: 2, dOut: 3, activation: 'gelu', parameterization: 'ntk' };
      const params = hostToParams(initHostParams(spec, 1));
      const x = tf.tensor2d(Float32Array.from(inputs(8, 4, 4)), [4, 4]);
      const eta = 1.3;
      const res = derivativeCorrelations(spec, params, x, { eta, sampled: { perLayer: 1000, seed: 0 } });
      const s = res.sampled!;
      const P = paramCounts(spec).total;
      assert.equal(s.set.size, P);
      assert.deepEqual(s.set.indices, Array.from({ length: P }, (_, k) => k));
      assertCloseNorm(s.c02.map((v) => v * P ** 2 * eta ** 2 / 2), res.c02, 1e-5, 'sampled C02 * |D|^2 * eta^2/2 = exact C02');
      assertCloseNorm(s.c03.map((v) => v * P ** 3 * eta ** 3 / 6), res.c03, 1e-5, 'sampled C03 * |D|^3 * eta^3/6 = exact C03');
      assertCloseNorm(s.sum1.map((v) => v * eta), res.c01, 1e-5, 'sum1 * eta = C01');
      disposeParams(params);
      x.dispose();
    });

    it('C01 equals eta * ||g||^2 with g from tf.grad', () => {
      const spec: MlpSpec = { dIn: 5, width: 8, depth: 2, activation: 'sigmoid', parameterization: 'standard' };
      const params = hostToParams(initHostParams(spec, 2));
      const batch = 2;
      const x = tf.tensor2d(Float32Array.from(inputs(9, batch, 5)), [batch, 5]);
      const eta = 0.3;
      const res = derivativeCorrelations(spec, params, x, { eta, outputs: [0, 7, 9] });
      const want: number[] = [];
      for (let b = 0; b < batch; b++) {
        const xb = x.slice([b, 0], [1, 5]);
        for (const i of [0, 7, 9]) {
          const leaves = params.flatMap((l) => [l.W, l.b]);
          const grads = tf.grads((...ts: tf.Tensor[]) => {
            const ps: Params = [];
            for (let l = 0; l < ts.length; l += 2) ps.push({ W: ts[l] as tf.Tensor2D, b: ts[l + 1] as tf.Tensor1D });
            return tf.tidy(() => forward(spec, ps, xb).slice([0, i], [1, 1]).sum());
          })(leaves);
          want.push(eta * grads.reduce((s, g) => s + tf.tidy(() => tf.square(g).sum().dataSync()[0]), 0));
          tf.dispose(grads);
        }
        xb.dispose();
      }
      assertCloseNorm(res.c01, want, 1e-5, 'C01 vs tf.grad');
      disposeParams(params);
      x.dispose();
    });

    it('chunking over samples and output subsets give the same values (10 outputs, wider net)', () => {
      const spec: MlpSpec = { dIn: 6, width: 24, depth: 3, activation: 'erf', parameterization: 'ntk' };
      const params = hostToParams(initHostParams(spec, 4));
      const x = tf.tensor2d(Float32Array.from(inputs(10, 5, 6)), [5, 6]);
      const all = derivativeCorrelations(spec, params, x, { eta: 1 });
      const chunked = derivativeCorrelations(spec, params, x, { eta: 1, chunk: 2 });
      assertCloseNorm(chunked.c03, all.c03, 1e-6, 'chunked');
      const sub = derivativeCorrelations(spec, params, x, { eta: 1, outputs: [3, 8] });
      const pick = (v: Float64Array): number[] => Array.from({ length: 5 }, (_, b) => [v[b * 10 + 3], v[b * 10 + 8]]).flat();
      assertCloseNorm(sub.c02, pick(all.c02), 1e-6, 'subset c02');
      const ref = makeRef(spec);
      const [f1, f2, f3] = refRows(spec, flatFromHost(initHostParams(spec, 4)), inputs(10, 5, 6), 5, Array.from({ length: 10 }, (_, i) => i));
      assertCloseNorm(all.c01, f1, F32_TOL, 'c01');
      assertCloseNorm(all.c02, f2, F32_TOL, 'c02');
      assertCloseNorm(all.c03, f3, F32_TOL, 'c03');
      assert.ok(ref.P > 1000);
      disposeParams(params);
      x.dispose();
    });
  });
}

describe('model/taylor: parameter sets', () => {
  it('are seeded, per layer, distinct, and mapped to the flat parameter order', () => {
    const spec: MlpSpec = { dIn: 7, width: 9, depth: 2, activation: 'relu', parameterization: 'ntk' };
    const a = sampleParameterSet(spec, 6, 5);
    const b = sampleParameterSet(spec, 6, 5);
    const c = sampleParameterSet(spec, 6, 6);
    assert.deepEqual(a.indices, b.indices);
    assert.notDeepEqual(a.indices, c.indices);
    assert.equal(a.size, 18);
    assert.equal(new Set(a.indices).size, 18);
    const N = paramCounts(spec).perLayer;
    let off = 0;
    const sizes = [7, 9, 9, 10];
    a.layers.forEach((L, l) => {
      const flat = [...Array.from(L.p, (p, j) => off + p * sizes[l + 1] + L.q[j]), ...Array.from(L.bq, (q) => off + sizes[l] * sizes[l + 1] + q)];
      assert.equal(flat.length, 6);
      for (const k of flat) assert.ok(a.indices.includes(k) && k >= off && k < off + N[l]);
      off += N[l];
    });
  });
});
