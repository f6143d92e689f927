// Flattens train and correlate artifacts into one row per (grid point, seed) and fits each
// group's power law in width.
import { fitGroups, type BootstrapOptions, type FitPoint, type PowerLawFit } from './powerlaw.ts';
import { paperFig4Slope, theoryCorrelationSlopes, theorySquaredErrorSlope, THEORY_ERROR_SLOPE } from './references.ts';

type Num = number | null;

/** The parts of a train-result (schemas/train-result.schema.json) the fits read. */
export interface TrainResultLike {
  protocol: 'a1' | 'a2';
  point: { dataset: string; activation: string; depth: number; width: number; seed: number; alpha: number | null };
  lr: number;
  status: 'ok' | 'diverged';
  stepsDone: number;
  final: { eq24Train: number; eq24Test: number; lossGap: number; lossGapRel: number; mseTest: number; trainLossNet: number; testLossNet: number } | null;
  log: { step: number; lossNet: Num; lossLin: Num; eq24Train: Num; eq24Test: Num }[];
  flops: number;
  backend: { name: string; tfjsVersion: string; device?: string };
}

/** The parts of a correlation-result the fits read. */
export interface CorrelationLike {
  point: { dataset: string; activation: string; depth: number; width: number; seed: number };
  exact: Record<'c01' | 'c02' | 'c03', { rms: number }>;
  sampled: Record<'c02' | 'c03', { rms: number; eq25: number }>;
}

export interface A1Row { [k: string]: string | number | null; dataset: string; activation: string; depth: number; width: number; seed: number; status: string; lr: number; eq24Train: Num; eq24Test: Num; lossGap: Num; lossGapRel: Num; mseTest: Num; trainLoss: Num }
export interface A2Row { [k: string]: string | number | null; alpha: number; width: number; seed: number; status: string; lr: number; mseTest: Num; testLoss: Num }
export interface CorrRow { [k: string]: string | number | null; dataset: string; activation: string; depth: number; width: number; seed: number; c01: number; c02: number; c03: number; c02Sampled: number; c03Sampled: number; c02Eq25: number; c03Eq25: number }
export interface DynRow { [k: string]: string | number | null; dataset: string; activation: string; depth: number; width: number; seed: number; step: number; model: string; split: string; loss: Num }

export function a1Rows(results: TrainResultLike[]): A1Row[] {
  return results.filter((r) => r.protocol === 'a1').map((r) => ({
    dataset: r.point.dataset, activation: r.point.activation, depth: r.point.depth, width: r.point.width, seed: r.point.seed,
    status: r.status, lr: r.lr,
    eq24Train: r.final?.eq24Train ?? null, eq24Test: r.final?.eq24Test ?? null,
    lossGap: r.final?.lossGap ?? null, lossGapRel: r.final?.lossGapRel ?? null, mseTest: r.final?.mseTest ?? null,
    trainLoss: r.final?.trainLossNet ?? null,
  }));
}

export function a2Rows(results: TrainResultLike[]): A2Row[] {
  return results.filter((r) => r.protocol === 'a2').map((r) => ({
    alpha: r.point.alpha ?? 0, width: r.point.width, seed: r.point.seed, status: r.status, lr: r.lr,
    mseTest: r.final?.mseTest ?? null, testLoss: r.final?.testLossNet ?? null,
  }));
}

export function corrRows(results: CorrelationLike[]): CorrRow[] {
  return results.map((r) => ({
    dataset: r.point.dataset, activation: r.point.activation, depth: r.point.depth, width: r.point.width, seed: r.point.seed,
    c01: r.exact.c01.rms, c02: r.exact.c02.rms, c03: r.exact.c03.rms,
    c02Sampled: r.sampled.c02.rms, c03Sampled: r.sampled.c03.rms, c02Eq25: r.sampled.c02.eq25, c03Eq25: r.sampled.c03.eq25,
  }));
}

/** Training curves (train loss of net and linearization, per logged step), A.1 only. */
export function dynamicsRows(results: TrainResultLike[]): DynRow[] {
  const rows: DynRow[] = [];
  for (const r of results) {
    if (r.protocol !== 'a1') continue;
    const base = { dataset: r.point.dataset, activation: r.point.activation, depth: r.point.depth, width: r.point.width, seed: r.point.seed };
    for (const l of r.log) {
      rows.push({ ...base, step: l.step, model: 'net', split: 'train', loss: l.lossNet });
      rows.push({ ...base, step: l.step, model: 'linearized', split: 'train', loss: l.lossLin });
    }
  }
  return rows;
}

export interface Expectation {
  label: string;
  slope: number;
}

export interface FitGroupResult {
  /** which figure / quantity, e.g. 'fig4-mse', 'fig1-c02' */
  metric: string;
  key: Record<string, string | number | boolean | null>;
  id: string;
  fit: PowerLawFit;
  paper: number | null;
  expectations: Expectation[];
}

interface MetricSpec<R> {
  metric: string;
  rows: R[];
  keys: (keyof R & string)[];
  value: keyof R & string;
  paper?: (key: Record<string, string | number | boolean | null>) => number | null;
  expectations: (key: Record<string, string | number | boolean | null>) => Expectation[];
}

function fitMetric<R extends { width: number; seed: number; status?: string | number | null }>(m: MetricSpec<R>, opts: BootstrapOptions): FitGroupResult[] {
  const toPoint = (r: R): FitPoint => ({ x: r.width, y: r[m.value] as unknown as number, seed: r.seed, status: (r.status as string | undefined) ?? 'ok' });
  return fitGroups(m.rows, m.keys, opts, toPoint).map((g) => ({
    metric: m.metric, key: g.key as FitGroupResult['key'], id: `${m.metric}:${g.id}`, fit: g.fit,
    paper: m.paper?.(g.key as FitGroupResult['key']) ?? null, expectations: m.expectations(g.key as FitGroupResult['key']),
  }));
}

export function fitAll(a1: A1Row[], a2: A2Row[], corr: CorrRow[], opts: BootstrapOptions): FitGroupResult[] {
  const byArch = ['dataset', 'activation', 'depth'] as const;
  const fixedLr = (what: string, slope: number): Expectation[] => [{ label: `${what} at fixed eta: slope ${slope}`, slope }];
  const corrExp = (d: number) => (): Expectation[] => {
    const t = theoryCorrelationSlopes(d);
    return [{ label: `Thm 3.1: slope ${t.thm31}`, slope: t.thm31 }, { label: `Thm 3.2: slope ${t.thm32}`, slope: t.thm32 }];
  };
  return [
    ...fitMetric({ metric: 'fig4-mse', rows: a2, keys: ['alpha'], value: 'mseTest',
      paper: (k) => paperFig4Slope(k.alpha as number),
      expectations: (k) => [{ label: `2 alpha - 1 = ${theorySquaredErrorSlope(k.alpha as number)}`, slope: theorySquaredErrorSlope(k.alpha as number) }] }, opts),
    ...fitMetric({ metric: 'fig1-c02', rows: corr, keys: [...byArch], value: 'c02', expectations: corrExp(2) }, opts),
    ...fitMetric({ metric: 'fig3-c03', rows: corr, keys: [...byArch], value: 'c03', expectations: corrExp(3) }, opts),
    ...fitMetric({ metric: 'c02-sampled', rows: corr, keys: [...byArch], value: 'c02Sampled', expectations: corrExp(2) }, opts),
    ...fitMetric({ metric: 'c03-sampled', rows: corr, keys: [...byArch], value: 'c03Sampled', expectations: corrExp(3) }, opts),
    ...fitMetric({ metric: 'fig2-lossgap', rows: a1, keys: [...byArch], value: 'lossGap', expectations: () => fixedLr('|L(f) - L(f_lin)| ~ f - f_lin', THEORY_ERROR_SLOPE) }, opts),
    ...fitMetric({ metric: 'eq24-test', rows: a1, keys: [...byArch], value: 'eq24Test', expectations: () => fixedLr('f - f_lin', THEORY_ERROR_SLOPE) }, opts),
    ...fitMetric({ metric: 'a1-mse', rows: a1, keys: [...byArch], value: 'mseTest', expectations: () => fixedLr('(f - f_lin)^2', 2 * THEORY_ERROR_SLOPE) }, opts),
  ];
}
