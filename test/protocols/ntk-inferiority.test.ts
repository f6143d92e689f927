// NTK inferiority: rows from train-results, the |gap| fit and the verdict rule on synthetic runs;
// the fit stage reads train-a1 once although two protocols read it.
import assert from 'node:assert/strict';
import type { Fits } from '../../stages/contracts/fits.ts';
import { TRAIN_RESULT_ID, type TrainResult } from '../../stages/contracts/train-result.ts';
import { fitSpecGroups } from '../../stages/fit/groups.ts';
import { fitStageFor } from '../../stages/fit/stage.ts';
import { inferiorityRows, inferiorityVerdict, ntkInferiorityProtocol } from '../../stages/protocols/ntk-inferiority/index.ts';
import { protocols } from '../../stages/wiring/registry.ts';

/** A.2-like runs: L_test(f) = 0.1, L_test(f_lin) = 0.1 + sign * 0.5 n^-1 (per seed a little off). */
function runs(sign: number): TrainResult[] {
  return [64, 128, 256, 512].flatMap((width) => [0, 1, 2].map((seed) => {
    const lin = 0.1 + sign * 0.5 * width ** -1 * (1 + 0.1 * seed);
    const run: TrainResult = {
      schema: TRAIN_RESULT_ID, protocol: 'a2',
      point: { dataset: 'mnist', activation: 'gelu', depth: 2, width, seed, alpha: 0 },
      model: { dIn: 784, sizes: [784, width, width, 10], parameterization: 'ntk', sigmaW: 1, sigmaB: 0, parameters: 1 },
      lr: 0.1, lossScale: 1, steps: 1, stepsDone: 1, batch: 1, status: 'ok',
      final: {
        trainLossNet: 0.1, trainLossLin: 0.1, testLossNet: 0.1, testLossLin: lin, lossGap: 0, lossGapRel: 0,
        eq24Train: 0, eq24Test: 0, mseTest: 0, testCount: 1, testAccNet: 0.9, testAccLin: 0.88,
        mseTestFloor: 0, eq24TestFloor: 0, eq24TrainFloor: 0, lossGapFloor: 0,
      },
      log: [], flops: 1e9, backend: { name: 'cpu', tfjsVersion: 'x' },
    };
    return run;
  }));
}

function verdict(sign: number) {
  const rows = inferiorityRows(runs(sign), 'a2');
  const spec = ntkInferiorityProtocol.fits.find((f) => f.metric === 'inf-a2-gap')!;
  const groups = fitSpecGroups(spec, rows, { resamples: 200, seed: 1 });
  return { rows, groups, ...inferiorityVerdict(rows, ['alpha'], groups) };
}

describe('protocol: NTK inferiority', () => {
  it('tabulates test loss and accuracy of f and f_lin and the deficit of f_lin', () => {
    const r = inferiorityRows(runs(1), 'a2')[0]!;
    assert.equal(r.alpha, 0);
    assert.ok(Math.abs((r.lossDeficit as number) - 0.5 / 64) < 1e-12);
    assert.ok(Math.abs((r.accDeficit as number) - 0.02) < 1e-12);
  });

  it('an exploratory row: the direction measured, in words (f_lin trailing, or never trailing)', () => {
    const trails = verdict(1);
    assert.ok(Math.abs(trails.groups[0]!.fit.slope! - -1) < 0.05, `slope ${trails.groups[0]!.fit.slope}`);
    assert.equal(trails.verdict, 'exploratory');
    assert.match(trails.why, /^f_lin mostly trails f/);
    assert.equal(trails.trailing, 1);
    const ahead = verdict(-1);
    assert.equal(ahead.trailing, 0);
    assert.equal(ahead.verdict, 'exploratory');
    assert.match(ahead.why, /^f_lin never trails f/);
  });

  it('the fit stage needs each stage once even when two protocols read it', () => {
    const needs = fitStageFor(protocols, import.meta.url).needs!.map((n) => n.stage);
    assert.ok(needs.includes('train-a1') && needs.includes('train-a2'));
    assert.equal(new Set(needs).size, needs.length, needs.join(', '));
  });

  it('counts each training run once, whichever protocol reads its stage first', async () => {
    const a2 = protocols.find((p) => p.id === 'a2')!;
    const results = runs(1).map((r, i): TrainResult => ({ ...r, status: i === 0 ? 'diverged' : 'ok' }));
    const inputs = { 'train-a2': results.map((_, i) => ({ id: `train-a2@${i}`, stage: 'train-a2', axes: {}, outputs: { result: { hash: String(i), size: 0, path: '' } } })) };
    for (const order of [[ntkInferiorityProtocol, a2], [a2, ntkInferiorityProtocol]]) {
      const read = new Set(order.flatMap((p) => Object.keys(p.reads)));
      const stage = fitStageFor(order, import.meta.url);
      let fits: Fits | undefined;
      await stage.run({
        id: 'fit', params: { 'fit.bootstrap': 20, 'fit.seed': 0, 'fit.widest': 0 }, log: () => {},
        inputs: Object.fromEntries(Object.entries(inputs).filter(([s]) => read.has(s))),
        readJson: async (ref: { hash: string }) => results[Number(ref.hash)],
        writeJson: async (_: string, v: unknown) => { fits = v as Fits; },
      } as never);
      assert.equal(fits!.counts.diverged, 1, order.map((p) => p.id).join(' then '));
      assert.equal(fits!.runtime.trainGflop, results.length, order.map((p) => p.id).join(' then '));
    }
  });
});
