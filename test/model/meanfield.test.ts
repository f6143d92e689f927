// The mean-field parameterization (negative control) against a computation that shares nothing
// with the library but the init: a hand-written float64 sigmoid MLP whose output layer is scaled
// by sigma_w / n and whose output bias by sigma_b / sqrt(n), its gradient and second directional derivative by central finite differences.
import assert from 'node:assert/strict';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { disposeParams, forward, hostToParams, initHostParams, resolveSpec, type HostLayer, type MlpSpec } from '../../stages/model/mlp.ts';
import { derivativeCorrelations } from '../../stages/model/taylor.ts';
import { flatFromHost, testValues } from './ref64.ts';

const quiet = { log: (): void => {} };
const SW = 1.3;
const SB = 0.2;
const spec: MlpSpec = { dIn: 3, width: 5, depth: 2, dOut: 2, activation: 'sigmoid', parameterization: 'meanfield', sigmaW: SW, sigmaB: SB };
const sig = (v: number): number => 1 / (1 + Math.exp(-v));

/** f(x; theta) with theta flat (W_0, b_0, W_1, b_1, W_2, b_2), scales written out by hand. */
function handForward(theta: Float64Array, x: ArrayLike<number>): number[] {
  const sizes = [3, 5, 5, 2];
  let a = Array.from(x);
  let o = 0;
  for (let l = 0; l < 3; l++) {
    const [nIn, nOut] = [sizes[l], sizes[l + 1]];
    const c = l === 2 ? SW / nIn : SW / Math.sqrt(nIn);
    const z = new Array<number>(nOut).fill(0);
    for (let i = 0; i < nIn; i++) for (let j = 0; j < nOut; j++) z[j] += c * a[i] * theta[o + i * nOut + j];
    o += nIn * nOut;
    const s = l === 2 ? SB / Math.sqrt(nIn) : SB;
    for (let j = 0; j < nOut; j++) z[j] += s * theta[o + j];
    o += nOut;
    a = l < 2 ? z.map(sig) : z;
  }
  return a;
}

const along = (theta: Float64Array, g: Float64Array, t: number): Float64Array => theta.map((v, k) => v + t * g[k]);

function fdGrad(theta: Float64Array, x: ArrayLike<number>, i: number, h = 1e-6): Float64Array {
  return theta.map((_, k) => {
    const e = new Float64Array(theta.length);
    e[k] = 1;
    return (handForward(along(theta, e, h), x)[i] - handForward(along(theta, e, -h), x)[i]) / (2 * h);
  });
}

describe('model: mean-field parameterization vs an independent float64 computation', () => {
  before(async () => {
    await selectBackend('cpu', quiet);
  });

  it('scales only the output layer, weights by sigma_w / n and bias by sigma_b / sqrt(n) (muP); the hidden layers are NTK', () => {
    const r = resolveSpec(spec);
    const ntk = resolveSpec({ ...spec, parameterization: 'ntk' });
    assert.deepEqual(r.wScale, [SW / Math.sqrt(3), SW / Math.sqrt(5), SW / 5]);
    assert.deepEqual(r.wScale.slice(0, -1), ntk.wScale.slice(0, -1));
    assert.deepEqual(r.bScale, [SB, SB, SB / Math.sqrt(5)]);
    assert.deepEqual(r.bScale.slice(0, -1), ntk.bScale.slice(0, -1));
    // Same raw draws as NTK (N(0, 1)): only the scale differs.
    const a = initHostParams(spec, 3);
    const b = initHostParams({ ...spec, parameterization: 'ntk' }, 3);
    a.forEach((l: HostLayer, k) => assert.deepEqual(l.W, b[k].W));
  });

  it('forward pass and exact C^{0,1}, C^{0,2} match finite differences of the hand-written net', () => {
    const host = initHostParams(spec, 11);
    const theta = flatFromHost(host);
    const batch = 2;
    const x = Float64Array.from(Float32Array.from(testValues(batch * 3, 5).map((v) => 1.5 * v)));
    const params = hostToParams(host);
    const xt = tf.tensor2d(Float32Array.from(x), [batch, 3]);
    const f = forward(spec, params, xt).dataSync();
    const eta = 0.7;
    const res = derivativeCorrelations(spec, params, xt, { eta });
    for (let b = 0; b < batch; b++) {
      const xb = x.subarray(3 * b, 3 * b + 3);
      const want = handForward(theta, xb);
      for (let i = 0; i < 2; i++) {
        assert.ok(Math.abs(f[2 * b + i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `f x${b} ${i}: ${f[2 * b + i]} vs ${want[i]}`);
        const g = fdGrad(theta, xb, i);
        const c01 = eta * g.reduce((s, v) => s + v * v, 0);
        // C^{0,2} = eta^2 / 2 * d^2/dt^2 f_i(theta + t g) at 0, central second difference.
        const h = 1e-3;
        const d2 = (handForward(along(theta, g, h), xb)[i] - 2 * want[i] + handForward(along(theta, g, -h), xb)[i]) / (h * h);
        const c02 = (eta ** 2 / 2) * d2;
        const k = b * 2 + i;
        assert.ok(Math.abs(res.c01[k] - c01) <= 1e-4 * c01, `C01 x${b} ${i}: ${res.c01[k]} vs ${c01}`);
        assert.ok(Math.abs(res.c02[k] - c02) <= 1e-3 * Math.abs(c02) + 1e-7, `C02 x${b} ${i}: ${res.c02[k]} vs ${c02}`);
      }
    }
    disposeParams(params);
    xt.dispose();
  });
});

describe('model: mean-field output bias and output exponent gamma against their closed forms', () => {
  it('gamma scales the output weights by n^(-1/2-gamma) and the bias by n^-gamma; gamma = 0 is NTK, the default 1/2 mean-field; the model description names gamma only where it is not 1/2', async () => {
    const { modelDesc } = await import('../../stages/model/spec.ts');
    const n = 64;
    const s = { ...spec, width: n };
    const q = resolveSpec({ ...s, outputExponent: 0.25 });
    assert.ok(Math.abs(q.wScale[2]! - SW * n ** -0.75) <= 1e-15 * SW);
    assert.ok(Math.abs(q.bScale[2]! - SB * n ** -0.25) <= 1e-15);
    assert.deepEqual(q.wScale.slice(0, 2), resolveSpec(s).wScale.slice(0, 2));
    const zero = resolveSpec({ ...s, outputExponent: 0 });
    const ntk = resolveSpec({ ...s, parameterization: 'ntk' });
    assert.deepEqual([zero.wScale, zero.bScale], [ntk.wScale, ntk.bScale]);
    assert.deepEqual(resolveSpec({ ...s, outputExponent: 0.5 }).wScale, resolveSpec(s).wScale);
    assert.equal(resolveSpec(s).outputExponent, 0.5);
    assert.equal(modelDesc({ ...s, outputExponent: 0.25 }).outputExponent, 0.25);
    assert.equal('outputExponent' in modelDesc(s), false);
    assert.equal('outputExponent' in modelDesc({ ...s, parameterization: 'ntk' }), false);
    assert.throws(() => resolveSpec({ ...s, parameterization: 'ntk', outputExponent: 0.25 }), /outputExponent is for the mean-field parameterization only/);
    assert.throws(() => resolveSpec({ ...s, outputExponent: 0.7 }), /outputExponent must be in \[0, 0.5\], got 0.7/);
  });

  before(async () => {
    await selectBackend('cpu', quiet);
  });

  it("the output bias's kernel trace is samples x dOut x sigma_b^2 / n, so eta = lr0 n keeps its term lr0 sigma_b^2 at every width", async () => {
    const { kernelLayerTraces } = await import('../../stages/model/kernel-share.ts');
    const x = tf.tensor2d(Float32Array.from(testValues(4 * 3, 7)), [4, 3]);
    for (const width of [5, 50, 500]) {
      const s = { ...spec, width };
      const params = hostToParams(initHostParams(s, 2));
      const out = (await kernelLayerTraces(s, params, x))[2]!;
      // d f_k / d b_L[j] = s_L delta_jk: per sample and output exactly s_L^2.
      const want = 4 * 2 * SB ** 2 / width;
      assert.ok(Math.abs(out.bias - want) <= 1e-6 * want, `n = ${width}: ${out.bias} vs ${want}`);
      assert.ok(Math.abs(width * out.bias - 8 * SB ** 2) <= 1e-5, `eta-scaled term at n = ${width}`);
      disposeParams(params);
    }
    x.dispose();
  });
});
