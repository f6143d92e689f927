// Theorem 3.2 in scope (issue 22, item 3): the a2-ntk protocol's rows, reference lines, verdict rows
// and the note on whether an interval tells 2β−1 from 4β−2, on synthetic train-results whose
// MSE_test follows a chosen power law in width.
import assert from 'node:assert/strict';
import type { FitGroupResult } from '../../stages/contracts/fits.ts';
import type { TrainResult } from '../../stages/contracts/train-result.ts';
import { fitSpecGroups } from '../../stages/fit/groups.ts';
import { keyLabel } from '../../stages/page/build.ts';
import { a2NtkProtocol, a2NtkRows, ntkBoundSlope, secondOrderNote, secondOrderSlope } from '../../stages/protocols/a2-ntk/index.ts';
import { a2NtkJob } from '../../stages/protocols/a2-ntk/job.ts';
import { A2NtkConfig } from '../../stages/protocols/a2-ntk/config.ts';
import { groupLabel } from '../../stages/protocols/claims.ts';
import type { Split } from '../../stages/train/data.ts';
import { protocols } from '../../stages/wiring/registry.ts';
import { Value } from '@sinclair/typebox/value';

const WIDTHS = [64, 128, 256, 512, 1024];
const SEEDS = [0, 1, 2, 3, 4];
const BETAS = [0, -0.5, -1];

/** One finished A.2-NTK run whose MSE_test is n^(slope(β) + noise·u), u = −1 … 1 over the seeds (mean 0): a straight line per seed. */
function run(beta: number, width: number, seed: number, slope: (beta: number) => number, noise: number): TrainResult {
  return {
    schema: 'weakcorr/train-result@1', protocol: 'a2-ntk',
    point: { dataset: 'mnist', activation: 'gelu', depth: 2, width, seed, alpha: beta },
    model: { dIn: 784, sizes: [784, width, width, 10], parameterization: 'ntk', sigmaW: 1, sigmaB: 0.05, parameters: 1 },
    lr: 64 * width ** beta, lossScale: 1, steps: 250, stepsDone: 250, batch: 128, status: 'ok',
    final: {
      trainLossNet: 0.045, trainLossLin: 0.045, testLossNet: 0.05, testLossLin: 0.05, lossGap: 0, lossGapRel: 0, eq24Train: 0, eq24Test: 0,
      mseTest: width ** (slope(beta) + noise * (seed - 2) / 2), testCount: 2000, testAccNet: 0.7 + 0.1 * beta,
      mseTestFloor: 1e-30, eq24TestFloor: 0, eq24TrainFloor: 0, lossGapFloor: 0,
    },
    log: [], flops: 0, kernelShare: 0.9, backend: { name: 'cpu', tfjsVersion: 'x' },
  };
}

function grid(slope: (beta: number) => number, noise = 0.05): TrainResult[] {
  return BETAS.flatMap((beta) => WIDTHS.flatMap((width) => SEEDS.map((seed) => run(beta, width, seed, slope, noise))));
}

function view(results: TrainResult[]) {
  const tables = a2NtkProtocol.tables((() => results) as never);
  const groups: FitGroupResult[] = a2NtkProtocol.fits.flatMap((f) => fitSpecGroups(f, tables[f.table as keyof typeof tables], { resamples: 50, seed: 0 }));
  return { rows: (t: string) => tables[t as keyof typeof tables], groups: (m: string) => groups.filter((g) => g.metric === m) };
}

const claims = (results: TrainResult[]) => a2NtkProtocol.claims!(view(results));

describe('a2-ntk: Theorem 3.2 in scope (A.2 in the NTK parameterization)', () => {
  it('is one registry entry whose config section trains nothing unless asked', () => {
    assert.equal(protocols.filter((p) => p.id === 'a2-ntk').length, 1);
    const d = Value.Default(A2NtkConfig, {}) as Record<string, unknown>;
    assert.deepEqual([d.widths, d.seeds, d.betas], [[], [], []]);
    // Everything but the parameterization and lr0 as A.2.
    assert.deepEqual([d.steps, d.batch, d.activation, d.depth, d.lossScale], [250, 128, 'gelu', 2, 1]);
    assert.equal(Value.Check(A2NtkConfig, { ...d, betas: [0.5] }), false, 'β > 0 (r > 1 at large widths) is refused');
  });

  it("runs A.2's job with the NTK parameterization and eta = lr0 n^beta", () => {
    const split = (count: number): Split => ({ images: new Uint8Array(count * 4), labels: new Uint8Array(count), count, dim: 4 });
    const p = { lr0: 64, steps: 3, batch: 2, testSize: 4, activation: 'gelu' as const, depth: 2, lossScale: 1, logEvery: 1 };
    const job = a2NtkJob(split(8), split(4), p, { width: 256, seed: 1, beta: -0.5 }, { progress: () => {} });
    assert.equal(job.spec.parameterization, 'ntk');
    assert.equal(job.lr, 64 / 16);
    assert.throws(() => a2NtkJob(split(8), split(2), p, { width: 256, seed: 1, beta: 0 }, { progress: () => {} }), /a2ntk\.testSize is 4, but the MNIST test split has only 2/);
  });

  it('rows carry β from the train-result; lines 2β−1 (bound) and 4β−2 (second order) per panel', () => {
    const v = view(grid(secondOrderSlope));
    const rows = v.rows('a2-ntk');
    assert.equal(rows.length, 75);
    assert.deepEqual([...new Set(rows.map((r) => r.beta))], BETAS);
    const g = v.groups('a2ntk-mse');
    assert.deepEqual(g.map((x) => x.key), BETAS.map((beta) => ({ beta })));
    for (const x of g) {
      const beta = x.key.beta as number;
      assert.deepEqual(x.expectations.map((e) => e.slope), [2 * beta - 1, 4 * beta - 2]);
      assert.ok(Math.abs(x.fit.slope! - (4 * beta - 2)) < 0.05, `fitted ${x.fit.slope}`);
    }
    assert.equal(keyLabel({ beta: -0.5 }), 'β = -0.5');
    assert.equal(groupLabel({ beta: -1 }), 'β = -1');
    const fig = a2NtkProtocol.figures(v)[0]!;
    assert.equal(fig.id, 'a2ntk-mse');
    assert.match(fig.caption, /2β−1/);
    assert.match(fig.caption, /4β−2/);
    assert.deepEqual(a2NtkProtocol.headline(v).map((h) => h.claim), BETAS.map((b) => `Theorem 3.2 (A.2, NTK): MSE_test(f, f_lin) vs width, β = ${b}`));
  });

  it('holds where the data follow 4β−2, and says the interval discriminates for the second-order prediction', () => {
    const c = claims(grid(secondOrderSlope));
    assert.deepEqual(c.map((x) => x.claim), BETAS.map((b) => `Theorem 3.2 in scope (A.2, NTK), β = ${b}`));
    for (const [i, x] of c.entries()) {
      assert.equal(x.verdict, 'holds', x.why);
      assert.equal(x.kind, 'theorem');
      assert.equal(x.boundSlope, ntkBoundSlope(BETAS[i]!));
      assert.equal(x.widths.paper, null, 'the paper ran no such setting');
      assert.equal(x.paperVerdict, null);
      assert.match(x.why, /inside the interval .* which excludes 2β−1 = .*: it discriminates, for the second-order prediction/);
      assert.match(x.regime ?? '', /trained: test accuracy/);
    }
  });

  it('is violated where the slope sits well above the bound, inconclusive on it', () => {
    const above = claims(grid((b) => ntkBoundSlope(b) + 0.5));
    assert.deepEqual(above.map((x) => x.verdict), ['violated', 'violated', 'violated']);
    const on = claims(grid(ntkBoundSlope));
    assert.deepEqual(on.map((x) => x.verdict), ['inconclusive', 'inconclusive', 'inconclusive']);
    for (const x of on) assert.match(x.why, /outside the interval .* which holds 2β−1 = .*: it discriminates, against the second-order prediction/);
  });

  it('says when the interval holds both lines, and when it excludes both', () => {
    const wide = view(grid((b) => 3 * b - 1.5, 1.5)).groups('a2ntk-mse').find((g) => g.key.beta === 0)!;
    assert.ok(wide.fit.ci!.hi - wide.fit.ci!.lo > 1.2, `interval ${wide.fit.ci!.lo}..${wide.fit.ci!.hi}`);
    assert.match(secondOrderNote(wide, 0), /holds both 2β−1 and 4β−2, so it does not discriminate/);
    const steep = view(grid((b) => secondOrderSlope(b) - 1)).groups('a2ntk-mse')[0]!;
    assert.match(secondOrderNote(steep, 0), /excludes both 2β−1 and 4β−2 \(steeper than both\)/);
    const between = view(grid((b) => 3 * b - 1.5)).groups('a2ntk-mse')[0]!;
    assert.match(secondOrderNote(between, 0), /excludes both .* \(between the two\)/);
  });
});
