// Issue 12, corrections 1-3, 6, 7 and the claims: the A.1/A.2 protocols' reference lines,
// labels, width ranges and verdict rows, on synthetic rows shaped like the `quick` run.
import assert from 'node:assert/strict';
import type { FitGroupResult, Row } from '../../stages/contracts/fits.ts';
import { fitSpecGroups } from '../../stages/fit/groups.ts';
import { a1Protocol } from '../../stages/protocols/a1/index.ts';
import { a2Protocol } from '../../stages/protocols/a2/index.ts';
import type { Protocol, ProtocolView } from '../../stages/protocols/protocol.ts';
import { protocols } from '../../stages/wiring/registry.ts';

const spec = (p: Protocol, metric: string) => p.fits.find((f) => f.metric === metric)!;
const labels = (p: Protocol, metric: string, key: Record<string, unknown>) => spec(p, metric).expectations(key as never).map((e) => `${e.label} @${e.slope}`);

/** Power laws y = n^slope with a small seed effect, `quick`'s widths and seeds. */
function a2Rows(): Row[] {
  const rows: Row[] = [];
  for (const alpha of [0, -0.5, -1]) for (const seed of [0, 1, 2, 3, 4]) for (const width of [64, 128, 256, 512, 1024])
    rows.push({ alpha, width, seed, status: 'ok', lr: 0.1, mseTest: width ** (-1 + 0.01 * seed) * (1 + 0.01 * seed), testLoss: 0.1 });
  return rows;
}
function a1Tables(): { a1: Row[]; correlations: Row[] } {
  const a1: Row[] = [];
  const correlations: Row[] = [];
  for (const dataset of ['mnist']) for (const activation of ['relu', 'erf']) for (const depth of [1, 2]) for (const seed of [0, 1, 2]) for (const width of [16, 32, 64, 128, 256]) {
    const e = 1 + 0.02 * seed;
    const net = { dataset, activation, depth, width, seed };
    a1.push({ ...net, status: 'ok', lr: 1, eq24Train: width ** -0.9 * e, eq24Test: width ** -0.9 * e, lossGap: width ** -1 * e, lossGapRel: width ** -0.8 * e, mseTest: width ** -1.8 * e, trainLoss: 0.1 });
    const c03 = activation === 'relu' && depth === 1 ? 0 : width ** -1.1 * e;
    correlations.push({ ...net, c01: 1, c02: width ** (-1 - 0.01 * seed) * e, c03, c02Sampled: width ** -2 * e, c03Sampled: width ** -3 * e, c02Eq25: 1, c03Eq25: 1 });
  }
  return { a1, correlations };
}

function view<T extends string>(p: Protocol, tables: Record<string, Row[]>): ProtocolView<T> {
  const groups: FitGroupResult[] = p.fits.flatMap((f) => fitSpecGroups(f, tables[f.table] ?? [], { resamples: 50, seed: 0 }));
  return { rows: (t) => tables[t] ?? [], groups: (m) => groups.filter((g) => g.metric === m) };
}

describe('protocols: reference lines (corrections 1-3)', () => {
  it('Figure 4: the Theorem 3.2 bound 2α+1 only where it is in scope; 2α−1 labelled as our reconstruction', () => {
    assert.deepEqual(labels(a2Protocol, 'fig4-mse', { alpha: -0.5 }), ['Theorem 3.2 bound: slope ≤ 2α+1 = 0 @0', 'our reconstruction (the paper gives no number): 2α−1 = −2 @-2']);
    assert.deepEqual(labels(a2Protocol, 'fig4-mse', { alpha: -1 }).map((l) => l.split(' @')[1]), ['-1', '-3']);
    // α = 0: r = n, beyond the theorem: no bound line.
    assert.deepEqual(labels(a2Protocol, 'fig4-mse', { alpha: 0 }).map((l) => l.split(' @')[1]), ['-1']);
    assert.equal(spec(a2Protocol, 'fig4-mse').paper!({ alpha: -1 }), -2.72);
    const legends = (alpha: number) => spec(a2Protocol, 'fig4-mse').expectations({ alpha } as never).map((e) => e.legend);
    assert.deepEqual(legends(-0.5), ['Theorem 3.2 bound: slope ≤ 2α+1', 'our reconstruction: slope 2α−1']);
  });
  it('correlations: O() bounds and the 1/n expectation as its own line; none for the Eq. 25 estimator', () => {
    const k = { dataset: 'mnist', activation: 'erf', depth: 2 };
    assert.deepEqual(labels(a1Protocol, 'fig3-c03', k), ['bound: slope ≤ −1/2 (Thm 3.1) @-0.5', 'bound: slope ≤ −3/4 (Thm 3.2) @-0.75', '1/n expectation: slope −1 (Dyer & Gur-Ari) @-1']);
    assert.ok(labels(a1Protocol, 'fig1-c02', k).every((l) => /^bound: slope ≤|^1\/n expectation/.test(l)));
    assert.deepEqual(labels(a1Protocol, 'c02-sampled', k), []);
    assert.deepEqual(labels(a1Protocol, 'c03-sampled', k), []);
    for (const m of ['fig2-lossgap', 'eq24-test', 'a1-mse']) assert.match(labels(a1Protocol, m, k)[0], /^bound: slope ≤/);
    assert.deepEqual(labels(a1Protocol, 'fig3-c03', { ...k, activation: 'relu', depth: 1 }), []);
  });
  it('no reference line anywhere is called "expected"; the paper\'s slope is its data', () => {
    for (const p of protocols) for (const f of p.fits) for (const alpha of [0, -1]) for (const e of f.expectations({ alpha, activation: 'erf', depth: 2 } as never))
      assert.doesNotMatch(e.label, /expected/i);
    const fig = a2Protocol.figures(view(a2Protocol, { a2: a2Rows() }))[0];
    assert.match(JSON.stringify(fig.spec), /paper \(data\): slope -1\.3/);
  });
});

describe('protocols: labels and width ranges (corrections 6, 7)', () => {
  const v1 = view(a1Protocol, a1Tables());
  it('exact-value figures say "cf. paper Fig. 1 / Fig. 3 (which plot Eq. 25)"; the estimator caption states both samplings', () => {
    const figs = a1Protocol.figures(v1);
    assert.match(figs.find((f) => f.id === 'fig1-c02')!.title, /cf\. paper Fig\. 1, which plots Eq\. 25/);
    assert.match(figs.find((f) => f.id === 'fig3-c03')!.title, /cf\. paper Fig\. 3, which plots Eq\. 25/);
    // The caption names the ReLU depth-1 exception only where the grid has that group.
    assert.match(figs.find((f) => f.id === 'fig3-c03')!.caption, /ReLU with 1 hidden layer: exactly 0/);
    const t = a1Tables();
    const deep = { a1: t.a1.filter((r) => r.depth === 2), correlations: t.correlations.filter((r) => r.depth === 2) };
    assert.doesNotMatch(a1Protocol.figures(view(a1Protocol, deep)).find((f) => f.id === 'fig3-c03')!.caption, /1 hidden layer/);
    const est = figs.find((f) => f.id === 'estimators')!.caption;
    assert.match(est, /without replacement/);
    assert.match(est, /10 weights \+ 10 biases per layer, with replacement/);
    assert.match(est, /\|D\|/);
    assert.match(est, /diagonal marks equal values only; points need not lie on it/);
    // Our figure numbers map to the paper's (the report lists them, ours -> paper).
    const paperOf = (id: string) => figs.find((f) => f.id === id)!.paperFigure;
    assert.match(paperOf('fig1-c02')!, /^Fig\. 1 \(it plots the Eq\. 25 estimator/);
    assert.match(paperOf('fig3-c03')!, /^Fig\. 3 /);
    assert.equal(paperOf('fig2-lossgap-rel'), 'Fig. 2');
    assert.equal(paperOf('fig2-lossgap'), undefined);
    assert.equal(a2Protocol.figures(view(a2Protocol, { a2: a2Rows() }))[0]!.paperFigure, 'Fig. 4');
    const gap = figs.find((f) => f.id === 'fig2-lossgap')!;
    assert.match(gap.title, /Absolute/);
    assert.match(gap.caption, /128 training \+ 32 test.*160 training samples, mini-batch/);
    assert.match(figs.find((f) => f.id === 'fig2-lossgap-rel')!.title, /Relative/);
  });
  it('every headline row shows its fitted widths next to the paper\'s', () => {
    const rows = [...a1Protocol.headline(v1), ...a2Protocol.headline(view(a2Protocol, { a2: a2Rows() }))];
    assert.ok(rows.length > 0);
    for (const r of rows) assert.match(r.note ?? '', /widths (\d+–\d+|— \(nothing fitted\)) \(paper: (8–1024|2048–19484)\)/, r.claim);
    assert.match(rows.find((r) => r.claim.startsWith('Fig. 4'))!.note!, /^widths 64–1024 \(paper: 2048–19484\)/);
    assert.ok(rows.some((r) => /exactly 0 by construction/.test(r.claim)));
    // The paper's slopes print as the measured ones do: two decimals, a typographic minus.
    const papers = rows.flatMap((r) => (r.paper ? [r.paper] : []));
    assert.ok(papers.length > 0 && papers.every((p) => /^−?\d+\.\d\d$/.test(p)), papers.join(' '));
  });
});

describe('protocols: claims and verdicts', () => {
  it('quick-shaped runs give at most ~10 claim rows with widths, intervals and verdicts', () => {
    const a2 = a2Protocol.claims!(view(a2Protocol, { a2: a2Rows() }));
    const a1 = a1Protocol.claims!(view(a1Protocol, a1Tables()));
    assert.deepEqual(a2.map((c) => c.claim), ['Figure 4, α = 0', 'Figure 4, α = -0.5', 'Figure 4, α = -1']);
    assert.deepEqual(a1.map((c) => c.kind), ['theorem', 'theorem', 'heuristic', 'theorem', 'heuristic']);
    assert.ok(a1.length + a2.length <= 10);
    // Bound and paper judged apart: the bound where it is in scope, the paper "not comparable" at these widths.
    // α = −1: the synthetic slope −0.98 (per-seed −1 … −0.96) lies above the bound 2α+1 = −1.
    assert.deepEqual(a2.map((c) => c.verdict), ['out of scope', 'holds', 'violated']);
    assert.match(a2[0]!.why, /α = 0: r = η\/η_the = n\^1\.00/);
    assert.match(a2[1]!.why, /outside the stated premise η < η_the, inside the proof's r ≲ m\(n\)/);
    for (const c of a2) {
      assert.equal(c.kind, 'theorem');
      assert.match(c.source, /Theorem 3\.2/);
      assert.deepEqual(c.widths, { here: [64, 1024], paper: '2048–19484' });
      assert.match(c.bound!, /2α\+1/);
      assert.match(c.paper!, /paper's data/);
    }
    for (const c of a2.slice(1)) assert.equal(c.paperVerdict?.verdict, 'not comparable', 'widths 64-1024 vs the paper\'s 2048-19484');
    const c02 = a1.find((c) => c.claim.startsWith('C^{0,2}'))!;
    assert.equal(c02.verdict, 'holds');
    assert.equal(c02.groups.length, 4);
    assert.ok(c02.measured.every((m) => m.lo !== null && m.hi !== null && m.lo <= m.slope! && m.slope! <= m.hi));
    assert.deepEqual(c02.widths, { here: [16, 256], paper: '8–1024' });
    const c03 = a1.find((c) => c.claim.startsWith('C^{0,3} decays'))!;
    assert.equal(c03.groups.length, 3, 'ReLU depth 1 is left out of the fit verdict');
    assert.match(c03.why, /mnist \/ relu \/ L1: exactly 0 by construction/);
    // The G.4 heuristic (−3/2) against smooth activations: the synthetic slope is −1.1, flatter.
    const g4 = a1.find((c) => c.claim.includes('n^{−3/2}'))!;
    assert.equal(g4.verdict, 'flatter than the paper');
    assert.equal(g4.groups.length, 2, 'erf only (relu is not smooth)');
    const rel = a1.find((c) => c.claim.startsWith('Relative loss gap'))!;
    assert.equal(rel.kind, 'heuristic');
    assert.equal(rel.verdict, 'holds');
  });
});

describe('claims: the regime beside every verdict (issue 21, item 4)', () => {
  it('states training status, the train loss against the constant predictor and the fan-in-n kernel share at both ends', async () => {
    const { trainingStatus } = await import('../../stages/protocols/claims.ts');
    const rows: Row[] = [
      { width: 64, seed: 0, status: 'ok', testAcc: 0.12, trainLossVsTrivial: 0.98, kernelShare: 0.08 },
      { width: 64, seed: 1, status: 'ok', testAcc: 0.2, trainLossVsTrivial: 0.9, kernelShare: 0.1 },
      { width: 1024, seed: 0, status: 'ok', testAcc: 0.85, trainLossVsTrivial: 0.31, kernelShare: 0.5 },
      { width: 1024, seed: 1, status: 'diverged', testAcc: null, trainLossVsTrivial: null, kernelShare: 0.9 },
    ];
    assert.equal(trainingStatus(rows),
      "partly trained: test accuracy 12%–85% (chance 10%); train loss 0.31–0.98× the best constant predictor's; fan-in-n share of the kernel 9% (n = 64) → 50% (n = 1024)");
    assert.equal(trainingStatus([]), null);
    // fit.widest leaves the smallest widths out of the fit: the regime is that of the fitted runs.
    assert.equal(trainingStatus([...rows, { width: 512, seed: 0, status: 'ok', testAcc: 0.7, trainLossVsTrivial: 0.4, kernelShare: 0.3 }], [512, 1024]),
      "trained: test accuracy 70%–85% (chance 10%); train loss 0.31–0.40× the best constant predictor's; fan-in-n share of the kernel 30% (n = 512) → 50% (n = 1024)");
  });
});
