// Corollary 4.0.1 from A.2's logged mini-batch deviation: rows, the bounded-in-s rule, the per-step width slopes.
import assert from 'node:assert/strict';
import type { TrainResult } from '../../stages/contracts/train-result.ts';
import { fitSpecGroups } from '../../stages/fit/groups.ts';
import { boundedInStep, corollaryProtocol, corollaryRows, meanCurves } from '../../stages/protocols/corollary/index.ts';

/** An A.2 train-result whose logged deviation is dev(width, step, seed). */
function run(width: number, seed: number, alpha: number, dev: (w: number, s: number, seed: number) => number, status: 'ok' | 'diverged' = 'ok'): TrainResult {
  const log = [0, 25, 50, 75, 100, 125].map((step) => ({ step, lossNet: 1, lossLin: 1, eq24Train: 0, eq24Test: 0, mseBatch: step === 0 ? 0 : dev(width, step, seed) }));
  return {
    schema: 'weakcorr/train-result@1', protocol: 'a2',
    point: { dataset: 'mnist', activation: 'gelu', depth: 2, width, seed, alpha },
    model: { dIn: 784, sizes: [784, width, width, 10], parameterization: 'standard', sigmaW: 1, sigmaB: 0, parameters: 1 },
    lr: 0.1, lossScale: 1, steps: 125, stepsDone: 125, batch: 128, status, final: null, log, flops: 0, backend: { name: 'cpu', tfjsVersion: 'x' },
  };
}

const grid = (dev: (w: number, s: number, seed: number) => number) =>
  [64, 128, 256, 512].flatMap((w) => [0, 1, 2].flatMap((seed) => [0, -1].map((a) => run(w, seed, a, dev))));

describe('protocol: Corollary 4.0.1', () => {
  it('rows: every logged step but s = 0 (f = f_lin there), finished runs only', () => {
    const rows = corollaryRows([run(64, 0, 0, () => 1), run(64, 1, 0, () => 1, 'diverged')]);
    assert.deepEqual(rows.map((r) => r.step), [25, 50, 75, 100, 125]);
    assert.ok(rows.every((r) => r.seed === 0));
  });

  it('a deviation flat in s is bounded; one that grows with s is not; too few steps is inconclusive', () => {
    const flat = meanCurves(corollaryRows(grid((w, _s, seed) => (1 + seed / 10) / w)));
    assert.equal(boundedInStep(flat).verdict, 'holds');
    const growing = meanCurves(corollaryRows(grid((w, s) => s / w)));
    const g = boundedInStep(growing);
    assert.equal(g.verdict, 'inconclusive');
    assert.ok(g.worst! >= 2, `growth ${g.worst}`);
    assert.equal(boundedInStep(flat.filter((r) => (r.step as number) <= 50)).verdict, 'inconclusive');
  });

  it('fits the width slope at every logged step: -1 for a deviation 1/n at every s', () => {
    const rows = corollaryRows(grid((w, s, seed) => (1 + seed / 10) * (1 + s / 1000) / w));
    const groups = fitSpecGroups(corollaryProtocol.fits[0]!, rows, { resamples: 50, seed: 0 });
    assert.equal(groups.length, 2 * 5);
    for (const g of groups) assert.ok(Math.abs(g.fit.slope! + 1) < 1e-9, `${g.id}: ${g.fit.slope}`);
    const view = { rows: () => rows, groups: () => groups };
    const [claim] = corollaryProtocol.claims!(view);
    assert.equal(claim!.verdict, 'holds');
    assert.equal(claim!.measured.length, 10);
    assert.deepEqual(corollaryProtocol.figures(view).map((f) => f.id), ['cor-steps', 'cor-collapse', 'cor-slope-vs-step']);
  });
});
