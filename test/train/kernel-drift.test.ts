// The kernel drift ||Theta_S - Theta_0||_F / ||Theta_0||_F (stages/model/kernel-drift.ts) and how far
// f moved (fMoveTest), against float64 computations that share nothing with the library but the
// init and the scalar activations: J J^T from central finite differences of the reference MLP
// (test/model/ref64.ts), at theta0 and at the parameters a real training run ends at.
import assert from 'node:assert/strict';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { disposeParams, hostToParams, initHostParams, type MlpSpec } from '../../stages/model/mlp.ts';
import { kernelDrift, relativeFrobenius } from '../../stages/model/kernel-drift.ts';
import { trainSideBySide } from '../../stages/train/loop.ts';
import { mfJob, type MfPoint } from '../../stages/protocols/meanfield/job.ts';
import { flatFromHost, hostFromFlat, makeRef, out64, testValues, type Ref64 } from '../model/ref64.ts';
import { fakeSplit } from './fake-split.ts';

const quiet = { log: (): void => {} };

/** K = J J^T over the samples of x (rows (sample, output)), J by central differences in float64. */
function gramFd(ref: Ref64, theta: Float64Array, x: ArrayLike<number>, samples: number, h = 1e-6): Float64Array {
  const dIn = ref.sizes[0];
  const dOut = ref.sizes[ref.depth + 1];
  const rows: Float64Array[] = [];
  const t = Float64Array.from(theta);
  for (let s = 0; s < samples; s++) {
    const xs = Array.from(x).slice(s * dIn, (s + 1) * dIn);
    const J = Array.from({ length: dOut }, () => new Float64Array(ref.P));
    for (let k = 0; k < ref.P; k++) {
      t[k] = theta[k] + h;
      const up = out64(ref, t, xs);
      t[k] = theta[k] - h;
      const down = out64(ref, t, xs);
      t[k] = theta[k];
      for (let i = 0; i < dOut; i++) J[i][k] = (up[i] - down[i]) / (2 * h);
    }
    rows.push(...J);
  }
  const K = new Float64Array(rows.length * rows.length);
  for (let a = 0; a < rows.length; a++) {
    for (let b = 0; b < rows.length; b++) {
      let acc = 0;
      for (let k = 0; k < ref.P; k++) acc += rows[a][k] * rows[b][k];
      K[a * rows.length + b] = acc;
    }
  }
  return K;
}


describe('kernel drift and f movement vs float64 finite differences', function () {
  this.timeout(120_000);
  before(async () => {
    await selectBackend('cpu', quiet);
  });

  it('relativeFrobenius is ||a - b|| / ||b|| and refuses a zero reference or mismatched lengths', () => {
    assert.ok(Math.abs(relativeFrobenius([4, 6], [1, 2]) - Math.sqrt(5)) < 1e-15);
    assert.equal(relativeFrobenius([1, 2], [1, 2]), 0);
    assert.throws(() => relativeFrobenius([1], [0]), /reference kernel is zero/);
    assert.throws(() => relativeFrobenius([1, 2], [1]), /2 vs 1 entries/);
  });

  for (const parameterization of ['ntk', 'meanfield'] as const) {
    it(`${parameterization}: kernelDrift between theta0 and a displaced theta matches J J^T by finite differences`, async () => {
      const spec: MlpSpec = { dIn: 3, width: 6, depth: 2, dOut: 3, activation: 'erf', parameterization, sigmaW: 1.2, sigmaB: 0.3 };
      const ref = makeRef(spec);
      const theta0 = flatFromHost(initHostParams(spec, 4));
      const thetaS = Float64Array.from(theta0, (v, k) => Math.fround(v + 0.2 * testValues(ref.P, 9)[k]));
      const x = testValues(5 * 3, 2).map((v) => Math.fround(1.5 * v));
      const want = relativeFrobenius(gramFd(ref, thetaS, x, 5), gramFd(ref, theta0, x, 5));
      const [p0, pS] = [hostToParams(hostFromFlat(ref, theta0)), hostToParams(hostFromFlat(ref, thetaS))];
      const xt = tf.tensor2d(Float32Array.from(x), [5, 3]);
      const got = await kernelDrift(spec, p0, pS, xt);
      assert.ok(want > 0.05, `the displacement moves the kernel: ${want}`);
      assert.ok(Math.abs(got - want) <= 1e-4 * want, `${got} vs ${want}`);
      assert.equal(await kernelDrift(spec, p0, p0, xt), 0);
      tf.dispose(xt);
      disposeParams(p0);
      disposeParams(pS);
    });
  }

  it('a mean-field training run records the drift between its theta0 and its trained parameters, and how far f moved, as float64 recomputes them', async () => {
    const split = fakeSplit(40, 6);
    const pt: MfPoint = { parameterization: 'meanfield', dataset: 'fake', activation: 'erf', depth: 1, width: 8, seed: 2 };
    const p = { trainSamples: 24, testSamples: 6, permutationSeed: 0, drawPerSeed: true, zscore: true, steps: 15, lr0: 1, logEvery: 5, sigmaW: 1, sigmaB: 0.05, lossScale: 0.5, linearization: 'function' as const };
    const job = mfJob(split, p, pt, { progress: () => {}, keepParams: true });
    assert.equal(job.kernelDrift, true, 'the control asks for the drift');
    const out = await trainSideBySide(job);
    assert.equal(out.status, 'ok');
    const ref = makeRef(job.spec);
    const theta0 = flatFromHost(initHostParams(job.spec, pt.seed));
    const thetaS = Float64Array.from(out.finalParams!.flatMap((a) => Array.from(a)));
    const te = job.finalTest;
    const want = relativeFrobenius(gramFd(ref, thetaS, te.x, te.count), gramFd(ref, theta0, te.x, te.count));
    assert.ok(want > 1e-3, `the run moved the kernel: ${want}`);
    assert.ok(Math.abs(out.kernelDrift! - want) <= 1e-3 * want, `drift ${out.kernelDrift} vs ${want}`);
    let sq = 0;
    for (let s = 0; s < te.count; s++) {
      const xs = te.x.subarray(s * 6, (s + 1) * 6);
      const [fS, f0] = [out64(ref, thetaS, xs), out64(ref, theta0, xs)];
      for (let i = 0; i < 10; i++) sq += (fS[i] - f0[i]) ** 2;
    }
    const move = Math.sqrt(sq / te.count);
    assert.ok(Math.abs(out.final!.fMoveTest - move) <= 1e-4 * move, `fMoveTest ${out.final!.fMoveTest} vs ${move}`);
    assert.ok(Math.abs(out.final!.linRelTest - Math.sqrt(out.final!.mseTest) / move) <= 1e-4 * out.final!.linRelTest);
  });
});
