// How far the empirical NTK moved in training (issue 22): ||Theta_S - Theta_0||_F / ||Theta_0||_F
// on a set of samples, both kernels from per-layer Grams (ntk-gram.ts), never a Jacobian. Under
// the NTK parameterization it decays with width (the kernel freezes, the net linearizes); under
// mean-field / muP it stays O(1) (features are learned).
import { tf } from './backend.ts';
import type { Params } from './mlp.ts';
import { ntkGram } from './ntk-gram.ts';
import type { MlpSpec, ResolvedSpec } from './spec.ts';

/** ||a - b||_F / ||b||_F in float64 (a, b: the same kernel's entries at two thetas). */
export function relativeFrobenius(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relativeFrobenius: ${a.length} vs ${b.length} entries`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    num += d * d;
    den += b[i]! * b[i]!;
  }
  if (!(den > 0)) throw new Error('relativeFrobenius: the reference kernel is zero');
  return Math.sqrt(num / den);
}

/** The relative kernel drift between theta0 and thetaS on the rows of x [samples, dIn], all outputs. */
export async function kernelDrift(spec: MlpSpec | ResolvedSpec, theta0: Params, thetaS: Params, x: tf.Tensor2D): Promise<number> {
  const k0 = ntkGram(spec, theta0, x, x);
  const kS = ntkGram(spec, thetaS, x, x);
  try {
    const [a, b] = await Promise.all([kS.data(), k0.data()]);
    return relativeFrobenius(a as Float32Array, b as Float32Array);
  } finally {
    k0.dispose();
    kS.dispose();
  }
}
