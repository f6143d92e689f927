// Float64 references for the activation kernels' tests (activation-kernels.test.ts, gelu-simd.test.ts):
// phi..phi''' of every activation, accurate relative to themselves in the tails too, independent of the
// kernels' methods (series and a continued fraction for the normal CDF where the kernels use Cody's
// rational functions or a fitted polynomial), and the inputs they are compared on.
import { erf64, normalCdf64, type ActivationName } from '../../stages/model/activations.ts';
import { testValues } from './ref64.ts';

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** Phi(-y) / phi(y) for y >= 4 by Laplace's continued fraction 1/(y + 1/(y + 2/(y + 3/(y + ...)))). */
export function millsRatio(y: number): number {
  let t = y;
  for (let k = 400; k >= 1; k--) t = y + k / t;
  return 1 / t;
}

/** Phi(x) in float64, accurate relative to itself in the lower tail too (normalCdf64's 1 + erf cancels there). */
export function cdf64(x: number): number {
  if (x >= -4) return normalCdf64(x);
  const y = -x;
  const phi = INV_SQRT_2PI * Math.exp(-0.5 * y * y);
  return y === Infinity ? 0 : phi * millsRatio(y);
}

/** -tanh(x/2) = 1 - 2 sigmoid(x) without the library's tanh: a series near 0, exponentials beyond. */
export function oneMinusTwoSigmoid(x: number): number {
  if (Math.abs(x) < 0.1) {
    const u = x / 2, u2 = u * u;
    return -u * (1 - u2 * (1 / 3 - u2 * (2 / 15 - u2 * (17 / 315 - u2 * (62 / 2835)))));
  }
  const e = Math.exp(-Math.abs(x));
  const r = (e - 1) / (e + 1);
  return x > 0 ? r : -r;
}

/** [phi^(k)(x), the size of the largest term phi^(k) is formed from] for k = 0..3. */
export function reference(name: ActivationName, x: number): [number, number][] {
  switch (name) {
    case 'gelu': {
      if (x === Infinity) return [[Infinity, 0], [1, 1], [0, 0], [0, 0]];
      if (x === -Infinity) return [[0, 0], [0, 0], [0, 0], [0, 0]];
      const c = cdf64(x), p = INV_SQRT_2PI * Math.exp(-0.5 * x * x);
      return [[x * c, 0], [c + x * p, c + Math.abs(x * p)], [p * (2 - x * x), 0], [p * x * (x * x - 4), 0]];
    }
    case 'erf': {
      if (Math.abs(x) === Infinity) return [[Math.sign(x), 0], [0, 0], [0, 0], [0, 0]];
      const d1 = TWO_OVER_SQRT_PI * Math.exp(-x * x);
      return [[erf64(x), 0], [d1, 0], [-2 * x * d1, 0], [(4 * x * x - 2) * d1, 0]];
    }
    case 'sigmoid': {
      const e = Math.exp(-Math.abs(x));
      const s = x >= 0 ? 1 / (1 + e) : e / (1 + e);
      const d1 = e / ((1 + e) * (1 + e));
      return [[s, 0], [d1, 0], [d1 * oneMinusTwoSigmoid(x), 0], [d1 * (1 - 6 * s + 6 * s * s), d1 * (1 + 6 * s + 6 * s * s)]];
    }
    case 'relu':
      return [[x > 0 ? x : 0, 0], [x > 0 ? 1 : 0, 0], [0, 0], [0, 0]];
  }
}

/** The spacing of float32 numbers at |v| (2^-149 among subnormals). */
export function ulp32(v: number): number {
  const f = new Float32Array([Math.abs(v)]);
  const bits = new Uint32Array(f.buffer);
  if (f[0] === Infinity) return Infinity;
  const lo = f[0]!;
  bits[0] = bits[0]! + 1;
  return f[0]! === Infinity ? 2 ** 104 : f[0]! - lo;
}

const ROOTS: Record<ActivationName, number[]> = {
  gelu: [-0.751791524693564, Math.SQRT2, -Math.SQRT2, 2, -2, 0],
  erf: [Math.SQRT1_2, -Math.SQRT1_2, 0],
  sigmoid: [1.3169578969248166, -1.3169578969248166, 0],
  relu: [0],
};

export function activationInputs(name: ActivationName): Float32Array {
  const xs: number[] = [];
  for (let i = -40 * 64; i <= 40 * 64; i++) xs.push(i / 64);
  const u = testValues(4000, 17);
  const v = testValues(4000, 18);
  for (let i = 0; i < u.length; i++) xs.push(Math.sign(u[i]!) * 2 ** (-30 + 37 * Math.abs(v[i]!)));
  for (let d = 1; d <= 50; d++) xs.push(d * 2 ** -149, -d * 2 ** -149);
  for (const r of ROOTS[name]) {
    if (r === 0) continue; // its neighbours: the subnormals above
    const f = new Float32Array([r]);
    const bits = new Int32Array(f.buffer);
    const b0 = bits[0]!;
    for (let d = -50; d <= 50; d++) {
      bits[0] = b0 + d;
      xs.push(f[0]!);
    }
  }
  xs.push(0, -0, 1e-45, -1e-45, 1e-40, -1e-40, 1.1754944e-38, -1.1754944e-38, 3.4028235e38, -3.4028235e38, 1e20, -1e20, 38.5, -38.5, 38.7, -38.7);
  return Float32Array.from(xs);
}

