// phi, phi', phi'', phi''' of every activation in one pass over a Float32Array: the inner loop of
// the fused activation kernel (backends/blas-fused.ts), instead of a chain of ~10 tfjs ops.
// Each element is evaluated in float64 and rounded once to float32, so the outputs are within
// 1 ulp of the exact values (test/model/activation-kernels.test.ts checks it against independent
// float64 references over the whole float32 range).
//
// The normal CDF is W. J. Cody's rational Chebyshev approximation (Math. Comp. 23 (1969) 631; the
// coefficient sets of SPECFUN's ANORM, netlib, about 1e-16 relative): near 0 a rational function
// of x^2, beyond it exp(-x^2/2) times a rational function of |x|. That exponential is also the
// normal pdf (GELU) and erf's derivative, so GELU and erf cost one exp per element.
// Special values: NaN gives NaN in every output; +-Inf gives the limits (GELU: gelu(-Inf) = 0,
// gelu'(+-Inf) = 1 / 0; every derivative that decays is 0), where chains of tfjs ops give NaN (Inf * 0).
import type { ActivationName } from './activation-names.ts';

/** The highest derivative the kernels evaluate. */
export const MAX_KERNEL_ORDER = 3;

// Cody's ANORM: Phi(x) - 1/2 = x A(x^2) / B(x^2) for |x| <= 0.67448975.
const A0 = 2.2352520354606839287, A1 = 161.02823106855587881, A2 = 1067.6894854603709582, A3 = 18154.981253343561249, A4 = 0.065682337918207449113;
const B0 = 47.20258190468824187, B1 = 976.09855173777669322, B2 = 10260.932208618978205, B3 = 45507.789335026729956;
// Phi(-y) = exp(-y^2/2) C(y) / D(y) for 0.67448975 < y <= sqrt(32).
const C0 = 0.39894151208813466764, C1 = 8.8831497943883759412, C2 = 93.506656132177855979, C3 = 597.27027639480026226, C4 = 2494.5375852903726711;
const C5 = 6848.1904505362823326, C6 = 11602.651437647350124, C7 = 9842.7148383839780218, C8 = 1.0765576773720192317e-8;
const D0 = 22.266688044328115691, D1 = 235.38790178262499861, D2 = 1519.377599407554805, D3 = 6485.558298266760755;
const D4 = 18615.571640885098091, D5 = 34900.952721145977266, D6 = 38912.003286093271411, D7 = 19685.429676859990727;
// Phi(-y) = exp(-y^2/2) (1/sqrt(2 pi) - P(1/y^2) / Q(1/y^2)) / y for y > sqrt(32).
const P0 = 0.21589853405795699, P1 = 0.1274011611602473639, P2 = 0.022235277870649807, P3 = 0.001421619193227893466, P4 = 2.9112874951168792e-5, P5 = 0.02307344176494017303;
const Q0 = 1.28426009614491121, Q1 = 0.468238212480865118, Q2 = 0.0659881378689285515, Q3 = 0.00378239633202758244, Q4 = 7.29751555083966205e-5;

const SPLIT = 0.67448975;
const SQRT32 = Math.sqrt(32);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

// exp(t) for t <= 0, ~1e-16 relative: t = (64 m + j) ln2/64 + r with |r| <= ln2/128, e^t = 2^m 2^(j/64) e^r,
// e^r by its Taylor polynomial to r^6 (truncation < 4e-19). About 3x faster than V8's exp here;
// the rounding of k uses the 1.5 * 2^52 trick (Math.round costs as much as the rest).
const EXP_SCALE = 64 / Math.LN2;
// ln2 = LN2_HI + LN2_LO to ~1e-26 (fdlibm's split; LN2_HI has 32 bits, so k * LN2_HI / 64 is exact).
const EXP_LN2_HI = 6.93147180369123816490e-1 / 64;
const EXP_LN2_LO = 1.90821492927058770002e-10 / 64;
const ROUNDER = 6755399441055744; // 1.5 * 2^52: x + ROUNDER - ROUNDER rounds x to an integer
const EXP_FRAC = Float64Array.from({ length: 64 }, (_, j) => 2 ** (j / 64));
const EXP_POW2 = Float64Array.from({ length: 1024 }, (_, i) => 2 ** (i - 1023)); // 2^m, m = -1023..0

/** e^t for t <= 0 (NaN for NaN; 0 below -708, where float64 turns subnormal and every float32 output is 0). */
export function expNonPositive(t: number): number {
  if (t < -708) return 0;
  const kf = t * EXP_SCALE + ROUNDER - ROUNDER;
  const r = t - kf * EXP_LN2_HI - kf * EXP_LN2_LO;
  const k = kf | 0;
  const p = 1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720))))));
  return p * EXP_FRAC[k & 63]! * EXP_POW2[(k >> 6) + 1023]!;
}

/** Phi(x) - 1/2 for |x| <= SPLIT (no cancellation: erf uses it directly). */
function centralHalf(x: number, xsq: number): number {
  const num = (((A4 * xsq + A0) * xsq + A1) * xsq + A2) * xsq;
  const den = (((xsq + B0) * xsq + B1) * xsq + B2) * xsq;
  return (x * (num + A3)) / (den + B3);
}

/** Phi(-y) for y > SPLIT, given e = exp(-y^2/2) (0 where it underflows; y may be +Inf). */
function upperTail(y: number, e: number): number {
  if (y <= SQRT32) {
    let num = C8 * y, den = y;
    num = (num + C0) * y; den = (den + D0) * y;
    num = (num + C1) * y; den = (den + D1) * y;
    num = (num + C2) * y; den = (den + D2) * y;
    num = (num + C3) * y; den = (den + D3) * y;
    num = (num + C4) * y; den = (den + D4) * y;
    num = (num + C5) * y; den = (den + D5) * y;
    num = (num + C6) * y; den = (den + D6) * y;
    return (e * (num + C7)) / (den + D7);
  }
  if (e === 0) return 0;
  const r = 1 / (y * y);
  const num = ((((P5 * r + P0) * r + P1) * r + P2) * r + P3) * r;
  const den = ((((r + Q0) * r + Q1) * r + Q2) * r + Q3) * r;
  return (e * (INV_SQRT_2PI - (r * (num + P4)) / (den + Q4))) / y;
}

type Outs = [Float32Array, Float32Array | undefined, Float32Array | undefined, Float32Array | undefined];

function outsOf(out: readonly Float32Array[], n: number): Outs {
  if (out.length < 1 || out.length > MAX_KERNEL_ORDER + 1) throw new Error(`activation kernel: ${out.length} outputs (phi and up to ${MAX_KERNEL_ORDER} derivatives)`);
  for (const o of out) if (o.length !== n) throw new Error(`activation kernel: an output of ${o.length} elements for ${n} inputs`);
  return [out[0]!, out[1], out[2], out[3]];
}

// gelu = x Phi; gelu' = Phi + x p; gelu'' = p (2 - x^2); gelu''' = p x (x^2 - 4), p = exp(-x^2/2) / sqrt(2 pi).
function gelu(x: Float32Array, [o0, o1, o2, o3]: Outs): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const y = Math.abs(v);
    if (!(y < Infinity)) {
      // NaN, or +-Inf: the limits.
      o0[i] = v === Infinity ? Infinity : v === -Infinity ? 0 : NaN;
      if (o1) o1[i] = v === Infinity ? 1 : v === -Infinity ? 0 : NaN;
      if (o2) o2[i] = v === v ? 0 : NaN;
      if (o3) o3[i] = v === v ? 0 : NaN;
      continue;
    }
    const v2 = v * v; // exact: a float32 squared fits float64's mantissa
    const e = expNonPositive(-0.5 * v2);
    let cdf: number;
    if (y <= SPLIT) cdf = 0.5 + centralHalf(v, v2);
    else {
      const tail = upperTail(y, e);
      cdf = v > 0 ? 1 - tail : tail;
    }
    const p = e * INV_SQRT_2PI;
    o0[i] = v * cdf;
    if (o1) o1[i] = cdf + v * p;
    if (o2) o2[i] = p * (2 - v2);
    if (o3) o3[i] = p * v * (v2 - 4);
  }
}

// erf(x) = 2 Phi(sqrt2 x) - 1; erf' = 2/sqrt(pi) exp(-x^2); erf'' = -2x erf'; erf''' = (4x^2 - 2) erf'.
function erf(x: Float32Array, [o0, o1, o2, o3]: Outs): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const y = Math.abs(v);
    if (!(y < Infinity)) {
      o0[i] = v === Infinity ? 1 : v === -Infinity ? -1 : NaN;
      if (o1) o1[i] = v === v ? 0 : NaN;
      if (o2) o2[i] = v === v ? 0 : NaN;
      if (o3) o3[i] = v === v ? 0 : NaN;
      continue;
    }
    const v2 = v * v;
    // exp(-u^2/2) at u = sqrt2 x, taken from the exact x^2.
    const e = expNonPositive(-v2);
    const u = Math.SQRT2 * v;
    if (y * Math.SQRT2 <= SPLIT) o0[i] = 2 * centralHalf(u, u * u);
    else {
      const r = 1 - 2 * upperTail(Math.SQRT2 * y, e);
      o0[i] = v > 0 ? r : -r;
    }
    const d1 = e * TWO_OVER_SQRT_PI;
    if (o1) o1[i] = d1;
    if (o2) o2[i] = -2 * v * d1;
    if (o3) o3[i] = (4 * v2 - 2) * d1;
  }
}

// s' = s(1-s); s'' = s'(1-2s) = -s' tanh(x/2) (no cancellation near 0); s''' = s'(1 - 6s + 6s^2) = s'(1 - 6s').
function sigmoid(x: Float32Array, [o0, o1, o2, o3]: Outs): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    // s and q = 1 - s, each from an exp that cannot overflow.
    let s: number, q: number;
    if (v >= 0) {
      const e = expNonPositive(-v);
      s = 1 / (1 + e);
      q = e / (1 + e);
    } else {
      const e = expNonPositive(v);
      s = e / (1 + e);
      q = 1 / (1 + e);
    }
    const d1 = s * q;
    o0[i] = s;
    if (o1) o1[i] = d1;
    if (o2) o2[i] = -d1 * Math.tanh(0.5 * v);
    if (o3) o3[i] = d1 * (1 - 6 * d1);
  }
}

// relu' = 1 for x > 0, else 0; relu'' = relu''' = 0 (almost everywhere). NaN stays NaN.
function relu(x: Float32Array, [o0, o1, o2, o3]: Outs): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v !== v) {
      o0[i] = NaN;
      if (o1) o1[i] = NaN;
      if (o2) o2[i] = NaN;
      if (o3) o3[i] = NaN;
      continue;
    }
    o0[i] = v > 0 ? v : 0;
    if (o1) o1[i] = v > 0 ? 1 : 0;
    if (o2) o2[i] = 0;
    if (o3) o3[i] = 0;
  }
}

const KERNELS: Record<ActivationName, (x: Float32Array, o: Outs) => void> = { gelu, erf, sigmoid, relu };

/**
 * out[k][i] = phi^(k)(x[i]) for k = 0..out.length - 1 (at most 4 outputs: phi, phi', phi'', phi''').
 * The outputs must not overlap x.
 */
export function activationDerivsInto(name: ActivationName, x: Float32Array, out: readonly Float32Array[]): void {
  const fn = KERNELS[name];
  if (!fn) throw new Error(`activation kernel: unknown activation '${name}'`);
  fn(x, outsOf(out, x.length));
}
