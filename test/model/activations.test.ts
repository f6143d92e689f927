import assert from 'node:assert/strict';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { ACTIVATIONS, TAYLOR_RADIUS, erf64, getActivation, type Activation } from '../../stages/model/activations.ts';

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

    // Issue 26: da = phi(z0 + dz) - phi(z0) in float32 (Activation.delta) against float64, at
    // |dz| from 1e-12 to 1 on both sides of TAYLOR_RADIUS. Below the radius the error must be
    // relative to dz (what keeps f - f0 accurate relative to itself) up to the series' truncation
    // (fourth order in dz); above it, eps-sized.
    it(`${name}: delta(z0, dz) = phi(z0 + dz) - phi(z0) matches float64 at |dz| from 1e-12 to 1`, () => {
      const act = getActivation(name);
      const z0s = [...xs, -0.7518, 0.05, -0.05]; // -0.7518: GELU's phi' = 0
      const mags = [1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 0.01, 0.029, 0.031, 0.1, 0.3, 1];
      const cases: [number, number][] = [];
      for (const z of z0s) for (const m of mags) cases.push([Math.fround(z), Math.fround(m)], [Math.fround(z), Math.fround(-m)]);
      const got = deltaF32(act, cases);
      const plain = tf.tidy(() => {
        const z0 = tf.tensor1d(cases.map((c) => c[0]));
        return act.f(z0.add(tf.tensor1d(cases.map((c) => c[1])))).sub(act.f(z0)).dataSync();
      });
      let plainWorst = 0;
      cases.forEach(([z, dz], i) => {
        const want = delta64(act, z, dz);
        const err = Math.abs(got[i]! - want);
        // Series: float32 rounding relative to dz plus the truncation bound max|phi''''| dz^4 / 24 (4.4: erf's).
        const tol = Math.abs(dz) < TAYLOR_RADIUS ? 1e-6 * Math.abs(dz) + (4.5 * dz ** 4) / 24 : 1e-6;
        assert.ok(err <= tol, `${name}: delta(${z}, ${dz}) = ${got[i]} vs float64 ${want} (error ${err.toExponential(2)} > ${tol.toExponential(2)})`);
        if (Math.abs(dz) <= 1e-8) plainWorst = Math.max(plainWorst, Math.abs(plain[i]! - want) / Math.abs(dz));
      });
      // The plain float32 difference is what the test guards against: off by about |dz| itself or more at tiny dz.
      assert.ok(plainWorst > 0.5, `${name}: the plain float32 difference should fail here (worst relative error ${plainWorst})`);
    });
  }
});

/** Activation.delta on float32 (z0, dz) pairs, with the derivatives from derivs(z0, 3) as the trace holds them. */
function deltaF32(act: Activation, cases: [number, number][]): Float32Array {
  return tf.tidy(() => {
    const z0 = tf.tensor1d(cases.map((c) => c[0]));
    const [a0, ...d] = act.derivs(z0, 3);
    return act.delta(z0, a0!, d, tf.tensor1d(cases.map((c) => c[1]))).dataSync() as Float32Array;
  });
}

/**
 * phi(z0 + dz) - phi(z0) in float64 for float32 z0, dz, accurate to ~1e-10 relative to dz: the
 * third-order Taylor series below |dz| = 1e-3 (truncation <= 4.4 dz^4 / 24), the direct float64
 * difference above (cancellation <= 1e-15 |phi| / |dz|); relu exactly.
 */
function delta64(act: Activation, z0: number, dz: number): number {
  if (act.name === 'relu') {
    const z1 = z0 + dz;
    return z0 > 0 && z1 > 0 ? dz : Math.max(z1, 0) - Math.max(z0, 0);
  }
  if (Math.abs(dz) < 1e-3) {
    const [, d1, d2, d3] = act.derivs64(z0);
    return dz * (d1 + dz * (d2 / 2 + (dz * d3) / 6));
  }
  return act.f64(z0 + dz) - act.f64(z0);
}
