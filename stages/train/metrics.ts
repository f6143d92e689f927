// The paper's distances between the net and its linearization, on host arrays (float64 sums).
// The distances take f - f_lin from any pair whose difference it is: (f, f_lin) or, as training
// reports them, the difference-form pair (f - f0, f_lin - f0) (issue 26, Deviations in mlp.ts).

/** Host outputs, float32 from a backend or float64 sums of them. */
export type Values = ArrayLike<number>;

/** f0, f - f0 and f_lin - f0 on one set of samples, read back from the backend (mlp.ts Deviations). */
export interface DeviationArrays {
  f0: Float32Array;
  df: Float32Array;
  dlin: Float32Array;
}

/** f0 + d summed in float64: the model's outputs (accurate to eps |f|, as outputs need). */
export function outputsOf(f0: Float32Array, d: Float32Array): Float64Array {
  const out = new Float64Array(f0.length);
  for (let i = 0; i < f0.length; i++) out[i] = f0[i]! + d[i]!;
  return out;
}

/**
 * L(f) - L(f_lin) with L = lossScale * mean (f - y)^2, without subtracting two losses:
 * (f - y)^2 - (f_lin - y)^2 = (df - dlin) (df + dlin + 2 (f0 - y)), so the gap keeps eps relative
 * to itself however small it is next to the losses (signed; the loss gap is its absolute value).
 */
export function lossDifference(d: DeviationArrays, y: Values, lossScale: number): number {
  if (d.f0.length !== y.length) throw new Error(`length mismatch ${d.f0.length} vs ${y.length}`);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (d.df[i]! - d.dlin[i]!) * (d.df[i]! + d.dlin[i]! + 2 * (d.f0[i]! - y[i]!));
  return (lossScale * s) / y.length;
}

/** Eq. 24: (1 / (10 |X|)) sqrt(sum_x sum_i (f_i - f_lin,i)^2), with 10 = outputs. */
export function eq24(f: Values, flin: Values, outputs = 10): number {
  const n = f.length / outputs;
  return Math.sqrt(sumSq(f, flin)) / (outputs * n);
}

/** Eq. 30: mean over samples of ||f(x) - f_lin(x)||^2. */
export function mseBetween(f: Values, flin: Values, outputs = 10): number {
  return sumSq(f, flin) / (f.length / outputs);
}

/**
 * The rounding floor of mseBetween and eq24 from two evaluations of the same f and f_lin that
 * differ only in summation order (a, b). With d = f - f_lin and independent evaluation errors e_a,
 * e_b of equal size, mean ||d_a - d_b||^2 = 2 E||e||^2, and E||e||^2 is what rounding adds to
 * MSE_test; so floor(MSE) = mean ||d_a - d_b||^2 / 2 and floor(Eq. 24) = Eq. 24 of (d_a - d_b) / sqrt 2.
 */
export function floorOf(a: { f: Values; flin: Values }, b: { f: Values; flin: Values }, outputs = 10): { mse: number; eq24: number } {
  const n = a.f.length / outputs;
  let s = 0;
  for (let i = 0; i < a.f.length; i++) {
    const dd = (a.f[i]! - a.flin[i]!) - (b.f[i]! - b.flin[i]!);
    s += dd * dd;
  }
  return { mse: s / n / 2, eq24: Math.sqrt(s / 2) / (outputs * n) };
}

/** Fraction of samples whose largest output is the label's (y one-hot; ties go to the first index). */
export function accuracy(f: Values, y: Values, outputs = 10): number {
  if (f.length !== y.length) throw new Error(`length mismatch ${f.length} vs ${y.length}`);
  const n = f.length / outputs;
  let hits = 0;
  for (let s = 0; s < n; s++) {
    let best = 0;
    let label = 0;
    for (let i = 1; i < outputs; i++) {
      if (f[s * outputs + i]! > f[s * outputs + best]!) best = i;
      if (y[s * outputs + i]! > y[s * outputs + label]!) label = i;
    }
    if (best === label) hits++;
  }
  return hits / n;
}

/** lossScale * mean over samples x outputs of (f - y)^2 (the training loss). */
export function mseLossValue(f: Values, y: Values, lossScale: number): number {
  return (lossScale * sumSq(f, y)) / f.length;
}

function sumSq(a: Values, b: Values): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return s;
}

/**
 * Matmul FLOPs of one side-by-side step. Per layer: net forward + weight gradient + input
 * gradient (3 matmuls; the first layer needs no input gradient: 2), linearized forward at
 * theta0 + JVP (2) + VJP (2) (first layer: 1 + 1 + 1, since x carries no tangent) = 8 (5).
 */
export function stepFlops(sizes: number[], batch: number): number {
  let flops = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const mm = 2 * batch * sizes[l]! * sizes[l + 1]!;
    flops += mm * (l === 0 ? 5 : 8);
  }
  return flops;
}
