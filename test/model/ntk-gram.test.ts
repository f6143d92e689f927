// The empirical NTK from per-layer Grams (stages/model/ntk-gram.ts) against J J^T with J from
// float64 central finite differences of the float64 reference MLP (ref64.ts): nothing shared with
// the library but the init and the scalar activation functions.
import assert from 'node:assert/strict';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { disposeParams, hostToParams, initHostParams, type MlpSpec, type Parameterization } from '../../stages/model/mlp.ts';
import { ntkGram } from '../../stages/model/ntk-gram.ts';
import { probeOpenblas } from '../../stages/model/backends/openblas.ts';
import { assertCloseNorm, flatFromHost, hostFromFlat, makeRef, out64, testValues, type Ref64 } from './ref64.ts';

const quiet = { log: (): void => {} };
const CPU_BACKENDS = ['cpu', 'wasm', ...(probeOpenblas().ok ? ['blas'] as const : [])] as const;
const DIN = 3;
const DOUT = 3;

/** J(x) [dOut, P] by central differences of the float64 forward pass (h = 1e-6: error ~1e-10 relative). */
function jacobianFd(ref: Ref64, theta: Float64Array, x: ArrayLike<number>, h = 1e-6): Float64Array[] {
  const dOut = ref.sizes[ref.depth + 1];
  const J = Array.from({ length: dOut }, () => new Float64Array(ref.P));
  const t = Float64Array.from(theta);
  for (let k = 0; k < ref.P; k++) {
    t[k] = theta[k] + h;
    const up = out64(ref, t, x);
    t[k] = theta[k] - h;
    const down = out64(ref, t, x);
    t[k] = theta[k];
    for (let i = 0; i < dOut; i++) J[i][k] = (up[i] - down[i]) / (2 * h);
  }
  return J;
}

/** K [nA dOut, nB dOut] = J(xA) J(xB)^T in float64, rows (sample, output). */
function gram64(ref: Ref64, theta: Float64Array, xA: Float64Array, xB: Float64Array): Float64Array {
  const jac = (x: Float64Array): Float64Array[] => {
    const out: Float64Array[] = [];
    for (let s = 0; s < x.length / DIN; s++) out.push(...jacobianFd(ref, theta, x.subarray(s * DIN, (s + 1) * DIN)));
    return out;
  };
  const [JA, JB] = [jac(xA), jac(xB)];
  const K = new Float64Array(JA.length * JB.length);
  for (let r = 0; r < JA.length; r++) {
    for (let c = 0; c < JB.length; c++) {
      let acc = 0;
      for (let k = 0; k < ref.P; k++) acc += JA[r][k] * JB[c][k];
      K[r * JB.length + c] = acc;
    }
  }
  return K;
}

describe('model/ntk-gram: the empirical NTK from per-layer Grams vs J J^T by float64 finite differences', () => {
  after(async () => {
    await selectBackend('cpu', quiet);
  });

  for (const backend of CPU_BACKENDS) {
    for (const activation of ['relu', 'erf', 'sigmoid'] as const) {
      for (const parameterization of ['ntk', 'meanfield', 'standard'] as Parameterization[]) {
        it(`${backend}: ${activation}, ${parameterization}, depths 1-3, at theta0 and at a displaced theta`, async () => {
          await selectBackend(backend, quiet);
          for (const depth of [1, 2, 3]) {
            const spec: MlpSpec = { dIn: DIN, width: 5, depth, dOut: DOUT, activation, parameterization, sigmaW: 1.2, sigmaB: 0.3 };
            const ref = makeRef(spec);
            const theta0 = flatFromHost(initHostParams(spec, depth));
            // Any theta, not only theta0 (kernel drift): theta0 plus a sizeable displacement.
            const thetaS = Float64Array.from(theta0, (v, k) => Math.fround(v + 0.3 * testValues(ref.P, 11 + depth)[k]));
            const xA = testValues(4 * DIN, 3 + depth).map((v) => Math.fround(1.5 * v));
            const xB = testValues(3 * DIN, 7 + depth).map((v) => Math.fround(1.5 * v));
            for (const [what, theta] of [['theta0', theta0], ['displaced', thetaS]] as const) {
              const p = hostToParams(hostFromFlat(ref, theta));
              const before = tf.memory().numTensors;
              const a = tf.tensor2d(Float32Array.from(xA), [4, DIN]);
              const b = tf.tensor2d(Float32Array.from(xB), [3, DIN]);
              const kAB = ntkGram(spec, p, a, b);
              const kAA = ntkGram(spec, p, a, a);
              assert.deepEqual(kAB.shape, [4 * DOUT, 3 * DOUT]);
              assert.deepEqual(kAA.shape, [4 * DOUT, 4 * DOUT]);
              const msg = `${backend} ${activation} ${parameterization} L=${depth} ${what}`;
              // float32 sums of O(10) terms per entry: a few ulp; 2e-5 of the largest entry leaves room.
              assertCloseNorm(kAB.dataSync(), gram64(ref, theta, xA, xB), 2e-5, `${msg} K(xA, xB)`);
              assertCloseNorm(kAA.dataSync(), gram64(ref, theta, xA, xA), 2e-5, `${msg} K(xA, xA)`);
              tf.dispose([a, b, kAB, kAA]);
              assert.equal(tf.memory().numTensors, before, `${msg}: leaked tensors`);
              disposeParams(p);
            }
          }
        });
      }
    }
  }

  it('rejects inputs of the wrong width and parameters of the wrong depth', async () => {
    await selectBackend('cpu', quiet);
    const spec: MlpSpec = { dIn: DIN, width: 4, depth: 2, dOut: DOUT, activation: 'erf', parameterization: 'ntk' };
    const p = hostToParams(initHostParams(spec, 0));
    const good = tf.zeros([2, DIN]) as tf.Tensor2D;
    const bad = tf.zeros([2, DIN + 1]) as tf.Tensor2D;
    assert.throws(() => ntkGram(spec, p, good, bad), /ntkGram: xB must be \[samples, 3\], got \[2, 4\]/);
    assert.throws(() => ntkGram({ ...spec, depth: 1 }, p, good, good), /theta has 3 layer\(s\), the spec 2/);
    tf.dispose([good, bad]);
    disposeParams(p);
  });
});
