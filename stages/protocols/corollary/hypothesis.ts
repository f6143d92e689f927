// Corollary 4.0.1's hypothesis: the linearized model's loss approaches its limit exponentially,
// L_lin(s) ~ c + A exp(-s/T), with a time scale T well inside the training run (S >= 5T). Without it
// the paper's own Lemma F.1 lets f - f_lin grow like s^2, so the corollary's bound is not tested.
// Pure arithmetic (float64), no tfjs.

/** The corollary is judged only where the run lasts this many time scales. */
export const HYPOTHESIS_FACTOR = 5;
/** An exponential approach must explain at least this share of the loss curve's variance. */
export const HYPOTHESIS_MIN_R2 = 0.9;

export interface ExpFit {
  /** L(s) = c + a exp(-s / t) */
  c: number;
  a: number;
  t: number;
  r2: number;
}

/** For a fixed T, least squares in (c, a): a straight-line fit of y on exp(-s/T). */
function linearPart(s: readonly number[], y: readonly number[], t: number): { c: number; a: number; sse: number } | null {
  const n = s.length;
  const u = s.map((v) => Math.exp(-v / t));
  const mu = u.reduce((p, v) => p + v, 0) / n;
  const my = y.reduce((p, v) => p + v, 0) / n;
  let suu = 0;
  let suy = 0;
  for (let i = 0; i < n; i++) {
    suu += (u[i]! - mu) ** 2;
    suy += (u[i]! - mu) * (y[i]! - my);
  }
  if (!(suu > 1e-300)) return null;
  const a = suy / suu;
  const c = my - a * mu;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (y[i]! - c - a * u[i]!) ** 2;
  return { c, a, sse };
}

/**
 * Least-squares fit of y(s) = c + a exp(-s/T): T on a log grid from a tenth of the first step gap
 * to 100 times the span, then golden-section refinement in log T. Null with fewer than 4 points or a
 * constant series.
 */
export function fitExponential(steps: readonly number[], values: readonly number[]): ExpFit | null {
  if (steps.length !== values.length) throw new Error(`fitExponential: ${steps.length} steps but ${values.length} values`);
  const pts = steps.map((s, i) => [s, values[i]!] as const).filter(([s, v]) => Number.isFinite(s) && Number.isFinite(v));
  if (pts.length < 4) return null;
  const s = pts.map((p) => p[0]);
  const y = pts.map((p) => p[1]);
  const my = y.reduce((p, v) => p + v, 0) / y.length;
  const sst = y.reduce((p, v) => p + (v - my) ** 2, 0);
  if (!(sst > 0)) return null;
  const sorted = [...s].sort((a, b) => a - b);
  const span = sorted[sorted.length - 1]! - sorted[0]!;
  const gap = Math.max(sorted[1]! - sorted[0]!, span / 1e6);
  const lo = Math.log(gap / 10);
  const hi = Math.log(100 * span);
  const sse = (logT: number): number => linearPart(s, y, Math.exp(logT))?.sse ?? Infinity;
  const GRID = 200;
  let best = lo;
  for (let i = 0; i <= GRID; i++) {
    const v = lo + ((hi - lo) * i) / GRID;
    if (sse(v) < sse(best)) best = v;
  }
  // Golden section on the bracket around the grid's best point.
  const h = (hi - lo) / GRID;
  let a = Math.max(lo, best - h);
  let b = Math.min(hi, best + h);
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 60; i++) {
    const x1 = b - g * (b - a);
    const x2 = a + g * (b - a);
    if (sse(x1) <= sse(x2)) b = x2;
    else a = x1;
  }
  const logT = sse((a + b) / 2) <= sse(best) ? (a + b) / 2 : best;
  const t = Math.exp(logT);
  const lp = linearPart(s, y, t)!;
  return { c: lp.c, a: lp.a, t, r2: 1 - lp.sse / sst };
}

export interface HypothesisCheck {
  met: boolean;
  fit: ExpFit | null;
  /** S / T: how many time scales the run lasted (null without a fit). */
  ratio: number | null;
  /** Why not, in words; empty when met. */
  why: string;
}

/**
 * The hypothesis on one run: f_lin's loss fits an exponential approach (a decaying term, R² >=
 * HYPOTHESIS_MIN_R2) whose time scale T satisfies S >= HYPOTHESIS_FACTOR * T.
 */
export function checkHypothesis(steps: readonly number[], lossLin: readonly number[], trained: number): HypothesisCheck {
  const fit = fitExponential(steps, lossLin);
  if (!fit) return { met: false, fit, ratio: null, why: 'fewer than 4 logged losses of f_lin (or a constant loss)' };
  const ratio = trained / fit.t;
  const r2 = fit.r2.toFixed(2);
  if (!(fit.a > 0)) return { met: false, fit, ratio, why: `f_lin's loss does not decay (fitted amplitude ${fit.a.toPrecision(2)})` };
  if (fit.r2 < HYPOTHESIS_MIN_R2) return { met: false, fit, ratio, why: `an exponential approach explains only R² = ${r2} of f_lin's loss curve (needs ≥ ${HYPOTHESIS_MIN_R2})` };
  if (ratio < HYPOTHESIS_FACTOR) return { met: false, fit, ratio, why: `f_lin's loss approaches its limit with T = ${fit.t.toPrecision(3)} steps: S = ${trained} is ${ratio.toFixed(1)} T (needs S ≥ ${HYPOTHESIS_FACTOR} T)` };
  return { met: true, fit, ratio, why: '' };
}
