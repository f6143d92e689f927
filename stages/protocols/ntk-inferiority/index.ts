// NTK inferiority (paper, section 3.3.3): the linearization generalizes worse than the net it
// linearizes. Test loss and accuracy of f and of f_lin after the same training, against width,
// from the A.1 (per dataset/activation/depth) and A.2 (per alpha) runs; no stage of its own.
import type { FitGroupResult, Row } from '../../contracts/fits.ts';
import type { TrainResult } from '../../contracts/train-result.ts';
import { dynamicsChart } from '../../page/charts/index.ts';
import { DATA_NOTE, headline, keyLabel, scalingFigure } from '../../page/build.ts';
import type { FigureInput } from '../../page/html.ts';
import { fittedWidths, measuredOf, PAPER_WIDTHS, widthText } from '../claims.ts';
import { defineProtocol, read, type Claim, type Verdict } from '../protocol.ts';
import { trainA1Stage } from '../a1/train.ts';
import { trainA2Stage } from '../a2/train.ts';

type Table = 'inf-a1' | 'inf-a2';
const A1_KEYS = ['dataset', 'activation', 'depth'];
const A2_KEYS = ['alpha'];

/** One row per run: test loss and accuracy of both models, and f_lin's deficit. */
export function inferiorityRows(results: TrainResult[], keys: 'a1' | 'a2'): Row[] {
  return results.map((r) => {
    const f = r.final;
    const key: Row = keys === 'a1' ? { dataset: r.point.dataset, activation: r.point.activation, depth: r.point.depth } : { alpha: r.point.alpha ?? 0 };
    const lossDeficit = f ? f.testLossLin - f.testLossNet : null;
    const row: Row = {
      ...key, width: r.point.width, seed: r.point.seed, status: r.status,
      testLossNet: f?.testLossNet ?? null, testLossLin: f?.testLossLin ?? null,
      testAccNet: f?.testAccNet ?? null, testAccLin: f?.testAccLin ?? null,
      // L(f_lin) - L(f) on the test set: > 0 where the linearization trails.
      lossDeficit,
      lossDeficitAbs: lossDeficit === null ? null : Math.abs(lossDeficit),
      accDeficit: f?.testAccNet !== undefined && f.testAccLin !== undefined ? f.testAccNet - f.testAccLin : null,
    };
    return row;
  });
}

const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;

/**
 * Rule: f_lin trails f where the seed-mean test-loss deficit is > 0 at the largest width of a
 * group; the gap closes where the slope interval of |deficit| vs width lies below 0.
 * Consistent: f_lin trails in most groups and the gap closes in all; inconclusive otherwise.
 */
export function inferiorityVerdict(rows: Row[], keys: string[], groups: FitGroupResult[]): { verdict: Verdict; why: string; trailing: number; total: number } {
  const byGroup = new Map<string, Row[]>();
  for (const r of rows) if (r.status === 'ok' && typeof r.lossDeficit === 'number') {
    const k = keys.map((c) => String(r[c])).join('/');
    byGroup.set(k, [...(byGroup.get(k) ?? []), r]);
  }
  let trailing = 0;
  for (const rs of byGroup.values()) {
    const top = Math.max(...rs.map((r) => r.width as number));
    if (mean(rs.filter((r) => r.width === top).map((r) => r.lossDeficit as number)) > 0) trailing++;
  }
  const total = byGroup.size;
  if (!total) return { verdict: 'inconclusive', why: 'no finished runs', trailing, total };
  const closes = groups.filter((g) => g.fit.ci && g.fit.ci.hi < 0).length;
  const what = `f_lin's test loss trails f's in ${trailing} of ${total} group(s) at the largest width; |gap| shrinks with width (slope interval < 0) in ${closes} of ${groups.length}`;
  // An exploratory row: the direction measured, in words; the paper states no testable bound.
  const direction = trailing * 2 > total ? 'f_lin mostly trails f' : trailing === 0 ? 'f_lin never trails f: it matches or beats f on test' : 'f_lin trails f in a minority of groups';
  return { verdict: 'exploratory', why: `${direction}: ${what}`, trailing, total };
}

const modelRows = (rows: Row[], keys: string[]): Row[] => rows.filter((r) => r.status === 'ok').flatMap((r) => {
  const k = Object.fromEntries([...keys, 'width', 'seed'].map((c) => [c, r[c]!]));
  return [
    { ...k, model: 'net f', testLoss: r.testLossNet, testAcc: r.testAccNet },
    { ...k, model: 'linearized f_lin', testLoss: r.testLossLin, testAcc: r.testAccLin },
  ];
});

export const ntkInferiorityProtocol = defineProtocol<Table>()({
  id: 'ntk-inferiority',
  title: 'NTK inferiority: test loss and accuracy of f and f_lin vs width (section 3.3.3)',
  config: {},
  stages: [],
  reads: { 'train-a1': read(trainA1Stage, 'result'), 'train-a2': read(trainA2Stage, 'result') },
  tables: (all) => ({
    'inf-a1': inferiorityRows(all('train-a1'), 'a1'),
    'inf-a2': inferiorityRows(all('train-a2'), 'a2'),
  }),
  counted: [],
  fits: [
    { metric: 'inf-a1-gap', table: 'inf-a1', keys: A1_KEYS, value: 'lossDeficitAbs', expectations: () => [] },
    { metric: 'inf-a2-gap', table: 'inf-a2', keys: A2_KEYS, value: 'lossDeficitAbs', expectations: () => [] },
  ],
  headline: (v) => [
    ...headline(v.groups('inf-a1-gap'), (g) => `NTK inferiority (A.1): |L_test(f_lin) − L_test(f)| vs width, ${keyLabel(g.key)}`),
    ...headline(v.groups('inf-a2-gap'), (g) => `NTK inferiority (A.2): |L_test(f_lin) − L_test(f)| vs width, ${keyLabel(g.key)}`),
  ],
  figures: (v) => {
    const out: FigureInput[] = [];
    for (const [table, keys, label] of [['inf-a1', A1_KEYS, 'A.1'], ['inf-a2', A2_KEYS, 'A.2']] as const) {
      const rows = v.rows(table);
      if (!rows.length) continue;
      const both = modelRows(rows, keys);
      const line = (id: string, value: string, yTitle: string, logY: boolean, title: string) => out.push({
        id, title, data: both,
        caption: `Each line is one seed; colour: the net f and its linearization f_lin, trained side by side from the same θ0 (${label}). Section 3.3.3 of the paper: f_lin should trail f, by less as the width grows.`,
        spec: dynamicsChart({ rows: both, step: 'width', value, model: 'model', detail: 'seed', panelBy: [...keys], columns: 3, logY, logX: true, xTitle: 'width n', yTitle }),
      });
      line(`${table}-loss`, 'testLoss', 'test loss', true, `Test loss of f and f_lin vs width (${label})`);
      line(`${table}-acc`, 'testAcc', 'test accuracy', false, `Test accuracy of f and f_lin vs width (${label})`);
      out.push(scalingFigure({
        id: `${table}-gap`, groups: v.groups(`${table}-gap`), rows: rows.filter((r) => r.status === 'ok'), y: 'lossDeficitAbs', panelBy: [...keys],
        title: `|L_test(f_lin) − L_test(f)| vs width (${label}): does the gap close?`, yTitle: '|test-loss gap| (absolute)', caption: DATA_NOTE,
      }));
    }
    return out;
  },
  claims: (v) => {
    // One row: A.1 and A.2 together; consistent only when both are.
    const parts = ([['inf-a1', A1_KEYS, 'A.1'], ['inf-a2', A2_KEYS, 'A.2']] as const)
      .filter(([table]) => v.rows(table).length)
      .map(([table, keys, label]) => {
        const groups = v.groups(`${table}-gap`);
        return { label, groups, ...inferiorityVerdict(v.rows(table), [...keys], groups) };
      });
    if (!parts.length) return [];
    const groups = parts.flatMap((p) => p.groups);
    const verdict: Verdict = 'exploratory';
    const claims: Claim[] = [{
      claim: `NTK inferiority (${parts.map((p) => p.label).join(', ')}): does f_lin trail f on test, and does the gap close with width?`,
      source: 'Section 3.3.3 (a discussion, no theorem)', kind: 'exploratory',
      paper: 'f_lin generalizes worse than f (section 3.3.3)', bound: null,
      paperSlope: null, boundSlope: null, paperVerdict: null, regime: null,
      groups: groups.map((g) => g.id), measured: measuredOf(groups),
      widths: { here: fittedWidths(groups), paper: `${widthText(PAPER_WIDTHS.a1)} (A.1), ${widthText(PAPER_WIDTHS.fig4)} (A.2)` },
      verdict, why: parts.map((p) => `${p.label}: ${p.why}`).join('; '),
    }];
    return claims;
  },
});
