// Activations with closed-form derivatives up to third order, as tfjs ops (float32) and as
// float64 scalar functions (references). Derivatives are written out because nested tf.grad is
// silently wrong through sigmoid/tanh (see docs/measured.md) and Taylor mode needs phi'''.
import { tf } from './backend.ts';
import { ACTIVATIONS, type ActivationName } from './activation-names.ts';

export { ACTIVATIONS, type ActivationName };

/** phi^(k)(x) for k = 0..3 as float64 numbers. */
export type Derivs64 = [number, number, number, number];

export interface Activation {
  name: ActivationName;
  /** phi(x) */
  f(x: tf.Tensor): tf.Tensor;
  /** phi'(x) */
  d1(x: tf.Tensor): tf.Tensor;
  /**
   * [phi, phi', ..., phi^(order)](x) with shared subexpressions computed once (order <= 3).
   * Caller owns (and disposes) the returned tensors; intermediates are tidied.
   */
  derivs(x: tf.Tensor, order: 0 | 1 | 2 | 3): tf.Tensor[];
  /**
   * phi(z0 + dz) - phi(z0) without cancellation (difference-form evaluation, issue 26), given
   * a0 = phi(z0) and d = [phi', phi'', phi'''](z0) as the forward trace at theta0 holds them.
   * `phi` evaluates phi where the difference is taken directly: the one a0 came from (a fused
   * kernel's, layer-ops.ts), so the two terms round alike; default this activation's tfjs ops.
   * Caller owns the result; intermediates are tidied.
   */
  delta(z0: tf.Tensor, a0: tf.Tensor, d: readonly tf.Tensor[], dz: tf.Tensor, phi?: (x: tf.Tensor) => tf.Tensor): tf.Tensor;
  /** float64 scalar phi^(k)(x), k = 0..3 */
  derivs64(x: number): Derivs64;
  f64(x: number): number;
  d1_64(x: number): number;
}

const SQRT2 = Math.SQRT2;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * float64 erf. Series erf(x) = 2/sqrt(pi) e^{-x^2} sum_k 2^k x^{2k+1} / (1*3*...*(2k+1)): all
 * terms positive (no cancellation), relative error ~1e-16 for |x| < 6; erf(|x|>=6) = +-1 in
 * double precision (erfc(6) = 2e-17).
 */
export function erf64(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  const x2 = ax * ax;
  let term = ax;
  let sum = ax;
  for (let k = 1; k < 200; k++) {
    term *= (2 * x2) / (2 * k + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.sign(x) * TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** Standard normal CDF in float64. */
export function normalCdf64(x: number): number {
  return 0.5 * (1 + erf64(x / SQRT2));
}

/**
 * Below this |dz|, phi(z0 + dz) - phi(z0) of a smooth activation is taken from its Taylor series
 * dz (phi' + dz (phi''/2 + dz phi'''/6)); above it, directly. In float32 the series loses only
 * the relative rounding of its terms (~eps |dz|); its truncation is phi''''(xi) dz^4 / 24 (|phi''''|
 * <= 1.6 for GELU, 4.4 for erf, 0.13 for sigmoid): <= 5.4e-8 (GELU), 1.5e-7 (erf) at the radius. The direct
 * difference loses eps |phi(z0)| ~ 6e-8, independent of dz, which is what the radius balances:
 * against the second-order part (phi'' dz^2 / 2) that f - f_lin consists of, both are ~1e-4
 * relative at |dz| = 0.03 and the relative error falls as dz^2 below it.
 */
export const TAYLOR_RADIUS = 0.03;

/** Taylor series below TAYLOR_RADIUS, direct difference above (see there). */
function smoothDelta(ops: (x: tf.Tensor) => tf.Tensor): Activation['delta'] {
  return (z0, a0, d, dz, phi = ops) =>
    tf.tidy(() => {
      const taylor = dz.mul(d[0]!.add(dz.mul(d[1]!.mul(0.5).add(dz.mul(d[2]!).mul(1 / 6)))));
      const direct = phi(z0.add(dz)).sub(a0);
      return tf.where(tf.less(tf.abs(dz), TAYLOR_RADIUS), taylor, direct);
    });
}

function tidyList(fn: () => tf.Tensor[]): tf.Tensor[] {
  return tf.tidy(fn);
}

const relu: Activation = {
  name: 'relu',
  f: (x) => tf.relu(x),
  d1: (x) => tf.step(x, 0),
  derivs: (x, order) =>
    tidyList(() => {
      const out: tf.Tensor[] = [tf.relu(x)];
      if (order >= 1) out.push(tf.step(x, 0));
      // relu'' = relu''' = 0 almost everywhere.
      for (let k = 2; k <= order; k++) out.push(tf.zerosLike(x));
      return out;
    }),
  // Where z0 and z0 + dz are both positive, the difference is dz itself (fl(z0 + dz) - z0 would
  // lose dz's low bits); where they are both <= 0 it is 0; across the kink one term is 0.
  delta: (z0, a0, _d, dz) =>
    tf.tidy(() => {
      const z1 = z0.add(dz);
      return tf.where(tf.logicalAnd(tf.greater(z0, 0), tf.greater(z1, 0)), dz, tf.relu(z1).sub(a0));
    }),
  derivs64: (x) => [Math.max(x, 0), x > 0 ? 1 : 0, 0, 0],
  f64: (x) => Math.max(x, 0),
  d1_64: (x) => (x > 0 ? 1 : 0),
};

// erf' = 2/sqrt(pi) e^{-x^2}; erf'' = -2x erf'; erf''' = (4x^2 - 2) erf'.
const erf: Activation = {
  name: 'erf',
  f: (x) => tf.erf(x),
  d1: (x) => tf.tidy(() => tf.exp(tf.neg(tf.square(x))).mul(TWO_OVER_SQRT_PI)),
  derivs: (x, order) =>
    tidyList(() => {
      const out: tf.Tensor[] = [tf.erf(x)];
      if (order < 1) return out;
      const d1 = tf.exp(tf.neg(tf.square(x))).mul(TWO_OVER_SQRT_PI);
      out.push(d1);
      if (order >= 2) out.push(d1.mul(x).mul(-2));
      if (order >= 3) out.push(d1.mul(tf.square(x).mul(4).sub(2)));
      return out;
    }),
  delta: smoothDelta((x) => tf.erf(x)),
  derivs64: (x) => {
    const d1 = TWO_OVER_SQRT_PI * Math.exp(-x * x);
    return [erf64(x), d1, -2 * x * d1, (4 * x * x - 2) * d1];
  },
  f64: (x) => erf64(x),
  d1_64: (x) => TWO_OVER_SQRT_PI * Math.exp(-x * x),
};

// s' = s(1-s); s'' = s(1-s)(1-2s); s''' = s(1-s)(1-6s+6s^2).
function sigmoid64(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
const sigmoid: Activation = {
  name: 'sigmoid',
  f: (x) => tf.sigmoid(x),
  d1: (x) => tf.tidy(() => {
    const s = tf.sigmoid(x);
    return s.mul(tf.scalar(1).sub(s));
  }),
  derivs: (x, order) =>
    tidyList(() => {
      const s = tf.sigmoid(x);
      const out: tf.Tensor[] = [s];
      if (order < 1) return out;
      const d1 = s.mul(tf.scalar(1).sub(s));
      out.push(d1);
      if (order >= 2) out.push(d1.mul(tf.scalar(1).sub(s.mul(2))));
      if (order >= 3) out.push(d1.mul(s.mul(s.sub(1)).mul(6).add(1)));
      return out;
    }),
  delta: smoothDelta((x) => tf.sigmoid(x)),
  derivs64: (x) => {
    const s = sigmoid64(x);
    const d1 = s * (1 - s);
    return [s, d1, d1 * (1 - 2 * s), d1 * (1 - 6 * s + 6 * s * s)];
  },
  f64: sigmoid64,
  d1_64: (x) => {
    const s = sigmoid64(x);
    return s * (1 - s);
  },
};

// gelu = x Phi(x); gelu' = Phi + x p; gelu'' = p (2 - x^2); gelu''' = p (x^3 - 4x), p = N(0,1) pdf.
const gelu: Activation = {
  name: 'gelu',
  f: (x) => tf.tidy(() => x.mul(tf.erf(x.mul(1 / SQRT2)).add(1).mul(0.5))),
  d1: (x) => tf.tidy(() => {
    const cdf = tf.erf(x.mul(1 / SQRT2)).add(1).mul(0.5);
    const pdf = tf.exp(tf.square(x).mul(-0.5)).mul(INV_SQRT_2PI);
    return cdf.add(x.mul(pdf));
  }),
  derivs: (x, order) =>
    tidyList(() => {
      const cdf = tf.erf(x.mul(1 / SQRT2)).add(1).mul(0.5);
      const out: tf.Tensor[] = [x.mul(cdf)];
      if (order < 1) return out;
      const pdf = tf.exp(tf.square(x).mul(-0.5)).mul(INV_SQRT_2PI);
      out.push(cdf.add(x.mul(pdf)));
      if (order < 2) return out;
      const x2 = tf.square(x);
      out.push(pdf.mul(tf.scalar(2).sub(x2)));
      if (order >= 3) out.push(pdf.mul(x).mul(x2.sub(4)));
      return out;
    }),
  delta: smoothDelta((x) => x.mul(tf.erf(x.mul(1 / SQRT2)).add(1).mul(0.5))),
  derivs64: (x) => {
    const cdf = normalCdf64(x);
    const pdf = INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    return [x * cdf, cdf + x * pdf, pdf * (2 - x * x), pdf * (x * x * x - 4 * x)];
  },
  f64: (x) => x * normalCdf64(x),
  d1_64: (x) => normalCdf64(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
};

const TABLE: Record<ActivationName, Activation> = { relu, erf, sigmoid, gelu };

export function getActivation(name: ActivationName): Activation {
  const a = TABLE[name];
  if (!a) throw new Error(`unknown activation '${name}': expected one of ${ACTIVATIONS.join(', ')}`);
  return a;
}
