// Student t quantiles for the per-seed slope interval (docs/science.md, "Intervals"). The CDF comes
// from the regularized incomplete beta function (continued fraction, Numerical Recipes 6.4);
// the quantile inverts it by bisection, which is plenty fast for one call per fit group.
//
// Kept hand-written (issue 23, item 8), weighed against the npm packages that do this (errors on
// the mpmath table described below):
//   @stdlib/stats-base-dists-t-quantile 0.2.3: 6 direct @stdlib dependencies, ~232 packages in all
//     (counted at an earlier install; not reinstalled to recount);
//   jstat 1.9.6: no dependencies (706 kB), but a relative error up to 3.7e-8;
//   distributions 2.2.0: 4.2e-13, but through cephes 2.0.0, a 1.2 MB base64 WebAssembly build.
// None removes code and risk together. Against mpmath at 40 digits (test/fit/t_reference.py: 77
// quantiles, df 1..999, p 0.6..0.9995, and their mirror images) this file's relative error is at
// most 6.9e-13, and 4.2e-14 for df <= 99 (the df of k seeds); against the closed forms at df = 1,
// 2, 4, 1.7e-13. It degrades for very large df (8.8e-10 at df = 1e6, where lnGamma(a + b) -
// lnGamma(a) - lnGamma(b) cancels), far from any use here.

/** ln Gamma(x) for x > 0 (Lanczos, g = 7, n = 9; ~1e-15 relative). */
export function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta (modified Lentz). */
function betacf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/**
 * Regularized incomplete beta I_x(a, b). `y` is 1 - x, for a caller that has it more exactly than
 * 1 - x in floating point (x near 1: 1 - x keeps only the digits x has left).
 */
export function incompleteBeta(x: number, a: number, b: number, y = 1 - x): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(y);
  // The continued fraction converges fast only for x < (a + 1) / (a + b + 2): use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lbt) * betacf(a, b, x)) / a;
  return 1 - (Math.exp(lbt) * betacf(b, a, y)) / b;
}

/** CDF of Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new Error(`studentTCdf: df must be positive, got ${df}`);
  // x = df / (df + t^2) and 1 - x, each from its own quotient: near t = 0 or for large df x is
  // close to 1, and 1 - x from x lost up to 1e-10 of the quantile (p = 0.5005, df = 2).
  const tail = 0.5 * incompleteBeta(1 / (1 + (t * t) / df), df / 2, 0.5, 1 / (1 + df / (t * t)));
  return t >= 0 ? 1 - tail : tail;
}

/** Quantile of Student's t: the t with P(T <= t) = p. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new Error(`studentTQuantile: df must be positive, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
