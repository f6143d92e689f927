// The paper's distances between the net and its linearization, on host arrays (float64 sums).

/** Eq. 24: (1 / (10 |X|)) sqrt(sum_x sum_i (f_i - f_lin,i)^2), with 10 = outputs. */
export function eq24(f: Float32Array, flin: Float32Array, outputs = 10): number {
  const n = f.length / outputs;
  return Math.sqrt(sumSq(f, flin)) / (outputs * n);
}

/** Eq. 30: mean over samples of ||f(x) - f_lin(x)||^2. */
export function mseBetween(f: Float32Array, flin: Float32Array, outputs = 10): number {
  return sumSq(f, flin) / (f.length / outputs);
}

/**
 * The rounding floor of mseBetween and eq24 from two evaluations of the same f and f_lin that
 * differ only in summation order (a, b). With d = f - f_lin and independent evaluation errors e_a,
 * e_b of equal size, mean ||d_a - d_b||^2 = 2 E||e||^2, and E||e||^2 is what rounding adds to
 * MSE_test; so floor(MSE) = mean ||d_a - d_b||^2 / 2 and floor(Eq. 24) = Eq. 24 of (d_a - d_b) / sqrt 2.
 */
export function floorOf(a: { f: Float32Array; flin: Float32Array }, b: { f: Float32Array; flin: Float32Array }, outputs = 10): { mse: number; eq24: number } {
  const n = a.f.length / outputs;
  let s = 0;
  for (let i = 0; i < a.f.length; i++) {
    const dd = (a.f[i]! - a.flin[i]!) - (b.f[i]! - b.flin[i]!);
    s += dd * dd;
  }
  return { mse: s / n / 2, eq24: Math.sqrt(s / 2) / (outputs * n) };
}

/** Fraction of samples whose largest output is the label's (y one-hot; ties go to the first index). */
export function accuracy(f: Float32Array, y: Float32Array, outputs = 10): number {
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
export function mseLossValue(f: Float32Array, y: Float32Array, lossScale: number): number {
  return (lossScale * sumSq(f, y)) / f.length;
}

function sumSq(a: Float32Array, b: Float32Array): number {
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
