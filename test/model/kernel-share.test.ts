import assert from 'node:assert/strict';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { ACTIVATIONS } from '../../stages/model/activations.ts';
import { disposeParams, hostToParams, initHostParams, type MlpSpec, type Parameterization } from '../../stages/model/mlp.ts';
import { kernelLayerTraces, widthProportionalShare } from '../../stages/model/kernel-share.ts';
import { flatFromHost, grad64, makeRef, testValues } from './ref64.ts';

/** The same traces from the float64 reference's full per-sample, per-output gradients. */
function traces64(spec: MlpSpec, seed: number, xs: Float64Array, n: number): { weights: number; bias: number }[] {
  const ref = makeRef(spec);
  const theta = flatFromHost(initHostParams(spec, seed));
  const dIn = ref.sizes[0];
  const out = Array.from({ length: ref.depth + 1 }, () => ({ weights: 0, bias: 0 }));
  for (let i = 0; i < n; i++) {
    const x = xs.subarray(i * dIn, (i + 1) * dIn);
    for (let k = 0; k < ref.sizes[ref.depth + 1]; k++) {
      const g = grad64(ref, theta, x, k);
      for (let l = 0; l <= ref.depth; l++) {
        for (let j = ref.offW[l]; j < ref.offB[l]; j++) out[l].weights += g[j] * g[j];
        for (let j = ref.offB[l]; j < ref.offB[l] + ref.sizes[l + 1]; j++) out[l].bias += g[j] * g[j];
      }
    }
  }
  return out;
}

describe('model/kernel-share: per-layer traces of the empirical NTK', () => {
  before(async () => {
    await selectBackend('cpu', { log: () => {} });
  });

  const params: Parameterization[] = ['ntk', 'standard', 'meanfield'];
  for (const parameterization of params) {
    for (const activation of ACTIVATIONS) {
      for (const depth of [1, 3]) {
        it(`${parameterization}, ${activation}, depth ${depth}: matches float64 per-sample gradients`, async () => {
          const spec: MlpSpec = { dIn: 7, width: 12, depth, dOut: 4, activation, parameterization };
          const n = 5;
          const xs = testValues(n * 7, 11);
          const want = traces64(spec, 3, xs, n);
          const p = hostToParams(initHostParams(spec, 3));
          const x = tf.tensor2d(Float32Array.from(xs), [n, 7]);
          const got = await kernelLayerTraces(spec, p, x);
          x.dispose();
          disposeParams(p);
          assert.equal(got.length, depth + 1);
          for (let l = 0; l <= depth; l++) {
            for (const part of ['weights', 'bias'] as const) {
              const rel = Math.abs(got[l][part] - want[l][part]) / Math.max(want[l][part], 1e-30);
              assert.ok(rel < 1e-4, `layer ${l} ${part}: ${got[l][part]} vs float64 ${want[l][part]}`);
            }
          }
        });
      }
    }
  }

  it('the width-proportional share grows with n in the standard parameterization, not in the NTK one', async () => {
    const share = async (parameterization: Parameterization, width: number): Promise<number> => {
      const spec: MlpSpec = { dIn: 50, width, depth: 2, activation: 'gelu', parameterization };
      const p = hostToParams(initHostParams(spec, 1));
      const x = tf.tensor2d(Float32Array.from(testValues(8 * 50, 5), (v) => v + 0.5), [8, 50]);
      const s = widthProportionalShare(await kernelLayerTraces(spec, p, x));
      x.dispose();
      disposeParams(p);
      return s;
    };
    const std = [await share('standard', 16), await share('standard', 256)];
    const ntk = [await share('ntk', 16), await share('ntk', 256)];
    // standard: the fan-in-n terms grow ~n against O(1) ones, so the share rises steeply
    assert.ok(std[1] > std[0] + 0.3, `standard: ${std[0]} -> ${std[1]}`);
    // NTK: every term is O(1); the share moves only by finite-width fluctuations
    assert.ok(Math.abs(ntk[1] - ntk[0]) < 0.15, `ntk: ${ntk[0]} -> ${ntk[1]}`);
  });
});
