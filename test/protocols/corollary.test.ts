// Corollary 4.0.1: the hypothesis check (exponential fit against closed forms), A.2's rows (not
// tested where the hypothesis fails), the teacher rows and claims on synthetic train-results.
import assert from 'node:assert/strict';
import type { TrainResult } from '../../stages/contracts/train-result.ts';
import { fitSpecGroups } from '../../stages/fit/groups.ts';
import { corollaryProtocol, corollaryRows, slopeDrift, teacherRunRows, teacherStepRows } from '../../stages/protocols/corollary/index.ts';
import { checkHypothesis, fitExponential } from '../../stages/protocols/corollary/hypothesis.ts';
import { teacherMatrix, teacherSamples } from '../../stages/protocols/corollary/teacher.ts';
import { Rng } from '../../stages/model/prng.ts';
import type { FitGroupResult } from '../../stages/contracts/fits.ts';

type Dev = (w: number, s: number, seed: number) => number;

/** A train-result whose logged deviation is dev(width, step, seed) and f_lin's test loss 0.1 + e^(−s/T). */
function run(protocol: 'a2' | 'corollary', width: number, seed: number, alpha: number | null, dev: Dev, t: number, steps: number, every: number): TrainResult {
  const log = Array.from({ length: steps / every }, (_, i) => i * every).map((step) => {
    const d = step === 0 ? 0 : dev(width, step, seed);
    const loss = 0.1 + Math.exp(-step / t);
    return { step, lossNet: loss, lossLin: loss, eq24Train: 0, eq24Test: 0, mseBatch: d, mseMonitor: d * d, testLossNet: loss, testLossLin: loss };
  });
  return {
    schema: 'weakcorr/train-result@1', protocol,
    point: { dataset: protocol === 'a2' ? 'mnist' : 'teacher', activation: 'erf', depth: 2, width, seed, alpha },
    model: { dIn: 32, sizes: [32, width, width, 10], parameterization: 'ntk', sigmaW: 1, sigmaB: 0.05, parameters: 1 },
    lr: 1, lossScale: 0.5, steps, stepsDone: steps, batch: 4, status: 'ok',
    final: { trainLossNet: 0.1, trainLossLin: 0.1, testLossNet: 0.1, testLossLin: 0.1, lossGap: 0, lossGapRel: 0, eq24Train: 0, eq24Test: 0, mseTest: 1, testCount: 1000, mseTestFloor: 1e-20, eq24TestFloor: 0, eq24TrainFloor: 0, lossGapFloor: 0 },
    log, flops: 0, backend: { name: 'cpu', tfjsVersion: 'x' },
  };
}

const WIDTHS = [64, 128, 256, 512];
const noise = (seed: number): number => 1 + (seed - 1) / 20;

function view(results: TrainResult[]) {
  const a2 = results.filter((r) => r.protocol === 'a2');
  const teacher = results.filter((r) => r.protocol === 'corollary');
  const tables = corollaryProtocol.tables(((name: string) => (name === 'train-a2' ? a2 : teacher)) as never);
  const groups = new Map<string, FitGroupResult[]>(corollaryProtocol.fits.map((f) => [f.metric, fitSpecGroups(f, tables[f.table as keyof typeof tables], { resamples: 50, seed: 0 })]));
  return { rows: (t: string) => tables[t as keyof typeof tables], groups: (m: string) => groups.get(m) ?? [] };
}

const teacherGrid = (dev: Dev, t: number) => WIDTHS.flatMap((w) => [0, 1, 2].map((seed) => run('corollary', w, seed, null, dev, t, 2000, 100)));

describe('protocol: Corollary 4.0.1', () => {
  it('fitExponential recovers c + a e^(−s/T) exactly, and a noisy one closely', () => {
    const s = Array.from({ length: 20 }, (_, i) => i * 100);
    const f = fitExponential(s, s.map((v) => 0.05 + 0.7 * Math.exp(-v / 190)))!;
    assert.ok(Math.abs(f.t - 190) < 1e-3 && Math.abs(f.c - 0.05) < 1e-6 && Math.abs(f.a - 0.7) < 1e-6, JSON.stringify(f));
    const rng = new Rng(7);
    const g = fitExponential(s, s.map((v) => (0.05 + 0.7 * Math.exp(-v / 190)) * (1 + 0.02 * rng.normal())))!;
    assert.ok(Math.abs(g.t / 190 - 1) < 0.15 && g.r2 > 0.99, JSON.stringify(g));
  });

  it('the hypothesis: met at S = 10 T; not met at S = 2 T, for a linear decline, or a flat loss', () => {
    const s = Array.from({ length: 20 }, (_, i) => i * 100);
    assert.equal(checkHypothesis(s, s.map((v) => 0.1 + Math.exp(-v / 200)), 2000).met, true);
    const slow = checkHypothesis(s, s.map((v) => 0.1 + Math.exp(-v / 1000)), 2000);
    assert.equal(slow.met, false);
    assert.match(slow.why, /S = 2000 is 2\.0 T/);
    assert.equal(checkHypothesis(s, s.map((v) => 1 - v / 4000), 2000).met, false);
    assert.equal(checkHypothesis(s, s.map(() => 1), 2000).met, false);
  });

  it('the teacher: targets A x with unit variance per output (A ~ N(0, 1/d)), the same stream from the same seed', () => {
    const a = teacherMatrix(32, 3);
    const set = teacherSamples(a, 32, 4000, new Rng(5));
    let ss = 0;
    for (const v of set.y) ss += v * v;
    const expected = Array.from({ length: 10 }, (_, o) => a.slice(o * 32, o * 32 + 32).reduce((p, v) => p + v * v, 0)).reduce((p, v) => p + v, 0) / 10;
    assert.ok(Math.abs(ss / set.y.length / expected - 1) < 0.05, `E y² ${ss / set.y.length} vs ||A||²/10 ${expected}`);
    assert.ok(Math.abs(expected - 1) < 0.2);
    assert.deepEqual(teacherSamples(a, 32, 3, new Rng(5)).y, teacherSamples(a, 32, 3, new Rng(5)).y);
  });

  it('A.2 where f_lin\'s loss decays too slowly: every corollary row reads "not tested: hypothesis not met"', () => {
    const a2 = WIDTHS.flatMap((w) => [0, 1, 2].flatMap((seed) => [0, -1].map((al) => run('a2', w, seed, al, (ww, s) => s * s / ww, 2000, 250, 25))));
    assert.ok(corollaryRows(a2).every((r) => (r.step as number) > 0));
    const claims = corollaryProtocol.claims!(view(a2));
    assert.equal(claims.length, 2);
    for (const c of claims) {
      assert.equal(c.verdict, 'out of scope');
      assert.match(c.why, /not tested: hypothesis not met in 12 of 12 runs/);
    }
  });

  it('the teacher with dev = 1/n: sup, every step and the plateau hold; with dev = 1/√n·(1 + s) they are violated', () => {
    const good = corollaryProtocol.claims!(view(teacherGrid((w, s, seed) => noise(seed) * (1 - Math.exp(-s / 300)) / w, 200)));
    assert.deepEqual(good.map((c) => c.claim.replace(/.*: /, '')), ['sup over s of |f − f_lin|', '|f − f_lin| at every logged step s', 'the plateau of |f − f_lin|·√n']);
    for (const c of good) assert.equal(c.verdict, 'holds', `${c.claim}: ${c.why}`);
    assert.match(good[0]!.regime!, /met in 12 of 12 runs; T = 2\.0e\+2–2\.0e\+2 steps/);
    const bad = corollaryProtocol.claims!(view(teacherGrid((w, s, seed) => noise(seed) * (1 + s / 100) * Math.pow(w, -0.5 + 0.3) , 200)));
    for (const c of bad) assert.equal(c.verdict, 'violated', `${c.claim}: ${c.why}`);
    const slow = corollaryProtocol.claims!(view(teacherGrid((w, _s, seed) => noise(seed) / w, 1000)));
    for (const c of slow) assert.equal(c.verdict, 'out of scope');
  });

  it('teacher rows: dev is the RMS of ||f − f_lin||, the plateau is dev·√n over the second half; the drift of the per-step slope', () => {
    const r = run('corollary', 256, 0, null, (w, s) => s / 1000 / w, 200, 2000, 100);
    const steps = teacherStepRows([r]);
    assert.equal(steps.length, 19);
    assert.ok(Math.abs((steps[0]!.dev as number) - 100 / 1000 / 256) < 1e-15);
    const [run0] = teacherRunRows([r]);
    assert.ok(Math.abs((run0!.supDev as number) - 1.9 / 256) < 1e-12);
    const late = steps.slice(9).map((x) => (x.dev as number) * 16);
    assert.ok(Math.abs((run0!.plateau as number) - late.reduce((a, b) => a + b, 0) / late.length) < 1e-12);
    const groups = fitSpecGroups(corollaryProtocol.fits[2]!, teacherStepRows(teacherGrid((w, s, seed) => noise(seed) * Math.pow(w, -1 + s / 4000), 200)), { resamples: 20, seed: 0 });
    const d = slopeDrift(groups)!;
    assert.ok(d.last > d.first && d.perEfold > 0, JSON.stringify(d));
  });
});
