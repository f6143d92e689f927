import assert from 'node:assert/strict';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { ACTIVATIONS, erf64, getActivation } from '../../stages/model/activations.ts';

describe('model/activations', () => {
  before(async () => {
    await selectBackend('cpu', { log: () => {} });
  });

  it('erf64 matches tabulated values to 1e-15', () => {
    const table: [number, number][] = [
      [0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [2, 0.9953222650189527], [3, 0.9999779095030014], [-1.5, -0.9661051464753108], [5, 0.9999999999984626],
    ];
    for (const [x, v] of table) assert.ok(Math.abs(erf64(x) - v) <= 1e-15 * Math.max(1, Math.abs(v)), `erf(${x}) = ${erf64(x)} vs ${v}`);
  });

  const xs = [-3.1, -1.7, -0.9, -0.31, 0.23, 0.77, 1.3, 2.4];
  for (const name of ACTIVATIONS) {
    it(`${name}: float64 derivatives match central differences of the lower order`, () => {
      const act = getActivation(name);
      const h = 1e-5;
      for (const x of xs) {
        const d = act.derivs64(x);
        assert.ok(Math.abs(act.f64(x) - d[0]) <= 1e-15 * Math.max(1, Math.abs(d[0])));
        assert.ok(Math.abs(act.d1_64(x) - d[1]) <= 1e-15 * Math.max(1, Math.abs(d[1])));
        for (let k = 1; k <= 3; k++) {
          const fd = (act.derivs64(x + h)[k - 1] - act.derivs64(x - h)[k - 1]) / (2 * h);
          assert.ok(Math.abs(fd - d[k]) <= 1e-8 * Math.max(1, Math.abs(d[k])), `${name}^(${k})(${x}): ${d[k]} vs fd ${fd}`);
        }
      }
    });

    it(`${name}: tfjs ops match float64 within float32 tolerance`, () => {
      const act = getActivation(name);
      const x = tf.tensor1d(xs);
      const ds = act.derivs(x, 3);
      const f = act.f(x);
      const d1 = act.d1(x);
      for (let k = 0; k <= 3; k++) {
        const got = ds[k].dataSync();
        xs.forEach((xv, j) => {
          const want = act.derivs64(xv)[k];
          assert.ok(Math.abs(got[j] - want) <= 2e-6 * Math.max(1, Math.abs(want)), `${name}^(${k})(${xv}): ${got[j]} vs ${want}`);
        });
      }
      assert.deepEqual(Array.from(f.dataSync()), Array.from(ds[0].dataSync()));
      assert.deepEqual(Array.from(d1.dataSync()), Array.from(ds[1].dataSync()));
      const before = tf.memory().numTensors;
      tf.dispose(act.derivs(x, 3));
      assert.equal(tf.memory().numTensors, before, 'derivs leaks no intermediates');
      tf.dispose([x, f, d1, ...ds]);
    });
  }
});
