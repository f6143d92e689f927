// NTK inferiority: rows from train-results, the |gap| fit and the verdict rule on synthetic runs;
// the fit stage reads train-a1 once although two protocols read it.
import assert from 'node:assert/strict';
import type { TrainResult } from '../../stages/contracts/train-result.ts';
import { fitSpecGroups } from '../../stages/fit/groups.ts';
import { fitStageFor } from '../../stages/fit/stage.ts';
import { inferiorityRows, inferiorityVerdict, ntkInferiorityProtocol } from '../../stages/protocols/ntk-inferiority/index.ts';
import { protocols } from '../../stages/protocols/registry.ts';

/** A.2-like runs: L_test(f) = 0.1, L_test(f_lin) = 0.1 + sign * 0.5 n^-1 (per seed a little off). */
function runs(sign: number): TrainResult[] {
  return [64, 128, 256, 512].flatMap((width) => [0, 1, 2].map((seed) => {
    const lin = 0.1 + sign * 0.5 * width ** -1 * (1 + 0.1 * seed);
    return {
      point: { dataset: 'mnist', activation: 'gelu', depth: 2, width, seed, alpha: 0 }, status: 'ok',
      final: { testLossNet: 0.1, testLossLin: lin, testAccNet: 0.9, testAccLin: 0.88 },
    } as unknown as TrainResult;
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

  it('f_lin trailing by a gap that closes like 1/n is consistent; f_lin ahead is not', () => {
    const trails = verdict(1);
    assert.ok(Math.abs(trails.groups[0]!.fit.slope! - -1) < 0.05, `slope ${trails.groups[0]!.fit.slope}`);
    assert.equal(trails.verdict, 'consistent with the bound');
    assert.equal(trails.trailing, 1);
    const ahead = verdict(-1);
    assert.equal(ahead.trailing, 0);
    assert.equal(ahead.verdict, 'inconclusive');
  });

  it('the fit stage needs each stage once even when two protocols read it', () => {
    const needs = fitStageFor(protocols, import.meta.url).needs!.map((n) => n.stage);
    assert.ok(needs.includes('train-a1') && needs.includes('train-a2'));
    assert.equal(new Set(needs).size, needs.length, needs.join(', '));
  });
});
