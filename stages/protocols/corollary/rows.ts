// Row tables of the Corollary 4.0.1 protocol, from train-results: A.2's logged mini-batch deviation
// (the corollary's hypothesis fails there), and the teacher runs where it holds. No tfjs.
import type { Row } from '../../contracts/fits.ts';
import type { TrainResult } from '../../contracts/train-result.ts';
import { checkHypothesis, type HypothesisCheck } from './hypothesis.ts';

/** One row per logged step s > 0 of every finished A.2 run. */
export function corollaryRows(results: TrainResult[]): Row[] {
  return results.filter((r) => r.status === 'ok').flatMap((r) => r.log
    .filter((l) => l.step > 0 && typeof l.mseBatch === 'number')
    .map((l) => ({ alpha: r.point.alpha ?? 0, step: l.step, width: r.point.width, seed: r.point.seed, status: r.status, mseBatch: l.mseBatch as number })));
}

/**
 * The hypothesis on one run, from f_lin's logged loss on the monitored test samples (the mini-batch
 * loss in results that predate it). The step count is the steps trained.
 */
export function runHypothesis(r: TrainResult): HypothesisCheck {
  const logged = r.log.filter((l) => typeof (l.testLossLin ?? l.lossLin) === 'number');
  return checkHypothesis(logged.map((l) => l.step), logged.map((l) => (l.testLossLin ?? l.lossLin) as number), r.stepsDone);
}

/** One row per finished run: its hypothesis check (for the scope of the corollary's verdicts). */
export function hypothesisRows(results: TrainResult[]): Row[] {
  return results.filter((r) => r.status === 'ok').map((r) => {
    const h = runHypothesis(r);
    return {
      alpha: r.point.alpha, width: r.point.width, seed: r.point.seed, steps: r.stepsDone,
      timeScale: h.fit?.t ?? null, ratio: h.ratio, r2: h.fit?.r2 ?? null, met: h.met ? 1 : 0, why: h.why,
    };
  });
}

const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;

/** The deviation |f − f_lin| at a logged step: the RMS over the monitored test samples of ||f(x) − f_lin(x)||. */
const deviation = (mseMonitor: number): number => Math.sqrt(mseMonitor);

/**
 * Teacher runs, one row per logged step s > 0: dev = sqrt(mean_x ||f − f_lin||²) on the monitored
 * test samples, dev·√n, and dev's rounding floor (the square root of the run's measured MSE floor).
 */
export function teacherStepRows(results: TrainResult[]): Row[] {
  return results.filter((r) => r.status === 'ok').flatMap((r) => {
    const floor = r.final ? Math.sqrt(r.final.mseTestFloor) : null;
    return r.log.filter((l) => l.step > 0 && typeof l.mseMonitor === 'number').map((l) => {
      const dev = deviation(l.mseMonitor as number);
      return { step: l.step, width: r.point.width, seed: r.point.seed, status: r.status, dev, devFloor: floor, devScaled: dev * Math.sqrt(r.point.width) };
    });
  });
}

/**
 * Teacher runs, one row per run: supDev = max over logged s of dev; plateau = the mean of dev·√n
 * over the second half of the logged steps; the loss of f and f_lin at the end (test samples).
 */
export function teacherRunRows(results: TrainResult[]): Row[] {
  return results.filter((r) => r.status === 'ok').flatMap((r) => {
    const steps = teacherStepRows([r]);
    if (!steps.length) return [];
    const devs = steps.map((s) => s.dev as number);
    const late = steps.slice(Math.floor(steps.length / 2)).map((s) => s.devScaled as number);
    const floor = r.final ? Math.sqrt(r.final.mseTestFloor) : null;
    return [{
      width: r.point.width, seed: r.point.seed, status: r.status,
      supDev: Math.max(...devs), supDevFloor: floor,
      plateau: mean(late), plateauFloor: floor === null ? null : floor * Math.sqrt(r.point.width),
      testLossNet: r.final?.testLossNet ?? null, testLossLin: r.final?.testLossLin ?? null,
    }];
  });
}

/** Seed-mean of `value` per (`by`..., step). */
export function meanCurves(rows: Row[], value: string, by: string[]): Row[] {
  const acc = new Map<string, { key: Row; v: number[] }>();
  for (const r of rows) {
    const key: Row = Object.fromEntries([...by, 'step'].map((k) => [k, r[k] ?? null]));
    const k = JSON.stringify(key);
    const e = acc.get(k) ?? { key, v: [] };
    e.v.push(r[value] as number);
    acc.set(k, e);
  }
  return [...acc.values()].map((e) => ({ ...e.key, [value]: mean(e.v) }));
}
