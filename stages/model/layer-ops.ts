// The per-layer operations of the forward, tangent and backprop passes (mlp.ts) and the MSE loss.
// Each is one fused kernel where the active backend registers it (blas: backends/blas-fused.ts;
// names in fused-kernel-names.ts) and otherwise the chain of tfjs ops it always was, op for op, so
// the other backends compute bit for bit as before. At width 256 a pair step is ~130 tfjs ops,
// and their dispatch and the activations' elementwise chains cost more than the matmuls: fused,
// it is ~40. Under a gradient tape (tf.grad) the chains are used: the kernels have no gradients.
import { matMulTransposesInPlace, tf } from './backend.ts';
import { getActivation, type ActivationName } from './activations.ts';
import {
  ACTIVATION_KERNEL, COLSUM_KERNEL, GEMM_KERNEL, MSE_KERNEL,
  type ActivationAttrs, type ColSumAttrs, type GemmAttrs, type MseAttrs,
} from './fused-kernel-names.ts';

/** Whether `kernel` runs fused here: registered for the active backend, and no gradient is being recorded. */
function fused(kernel: string): boolean {
  return tf.getKernel(kernel, tf.getBackend()) !== undefined && !tf.engine().isTapeOn();
}

type Inputs = Record<string, tf.Tensor | null | undefined>;

function run(kernel: string, inputs: Inputs, attrs: GemmAttrs | ColSumAttrs | ActivationAttrs | MseAttrs): tf.Tensor[] {
  const named: tf.NamedTensorMap = {};
  for (const [k, v] of Object.entries(inputs)) if (v) named[k] = v;
  const out = tf.engine().runKernel(kernel, named, attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}

const NO_TRANS = { transA0: false, transB0: false, transA1: false, transB1: false };

/** z = c (a @ W) + s b. */
export function affine(a: tf.Tensor2D, W: tf.Tensor2D, c: number, b: tf.Tensor1D, s: number): tf.Tensor2D {
  if (fused(GEMM_KERNEL)) return run(GEMM_KERNEL, { a0: a, b0: W, bias: b }, { ...NO_TRANS, alpha: c, biasScale: s })[0] as tf.Tensor2D;
  return tf.matMul(c === 1 ? a : a.mul(c), W).add(s === 1 ? b : b.mul(s));
}

/**
 * The tangent of a layer: dz = c (a @ dW + da @ W) + s db (da null: the input layer), times `mul`
 * (phi'(z), giving the next da) where given.
 */
export function tangentAffine(
  a: tf.Tensor2D, dW: tf.Tensor2D, da: tf.Tensor2D | null, W: tf.Tensor2D, c: number, db: tf.Tensor1D, s: number, mul?: tf.Tensor2D,
): tf.Tensor2D {
  if (fused(GEMM_KERNEL)) return run(GEMM_KERNEL, { a0: a, b0: dW, a1: da, b1: da ? W : null, bias: db, mul }, { ...NO_TRANS, alpha: c, biasScale: s })[0] as tf.Tensor2D;
  let m = tf.matMul(a, dW);
  if (da) m = m.add(tf.matMul(da, W));
  const dz = (c === 1 ? m : m.mul(c)).add(s === 1 ? db : db.mul(s)) as tf.Tensor2D;
  return mul ? (mul.mul(dz) as tf.Tensor2D) : dz;
}

/** Backprop through a layer: c (delta @ Wᵀ) ⊙ dphi. */
export function backDelta(delta: tf.Tensor2D, W: tf.Tensor2D, c: number, dphi: tf.Tensor2D): tf.Tensor2D {
  if (fused(GEMM_KERNEL)) return run(GEMM_KERNEL, { a0: delta, b0: W, mul: dphi }, { ...NO_TRANS, transB0: true, alpha: c, biasScale: 1 })[0] as tf.Tensor2D;
  // blas reads transposed operands in place; XNNPACK (wasm) is faster on explicit transposes: (W deltaᵀ)ᵀ.
  const back = matMulTransposesInPlace() ? tf.matMul(delta, W, false, true) : tf.transpose(tf.matMul(W, tf.transpose(delta)));
  const next = back.mul(dphi) as tf.Tensor2D;
  return c === 1 ? next : (next.mul(c) as tf.Tensor2D);
}

/** `sum` = target + alpha (the update or gradient); `plus` + sum where `plus` is given (a second output). */
export type Accumulated<T extends tf.Tensor> = { sum: T; plus?: T };

/**
 * target + alpha aᵀ delta (target null: the weight gradient alpha aᵀ delta), and plus + that when
 * `plus` is given: an SGD step on a weight matrix, and the net's theta0 + displacement, in one op.
 */
export function addOuter(target: tf.Tensor2D | null, a: tf.Tensor2D, delta: tf.Tensor2D, alpha: number, plus?: tf.Tensor2D): Accumulated<tf.Tensor2D> {
  if (fused(GEMM_KERNEL)) {
    const [sum, both] = run(GEMM_KERNEL, { a0: a, b0: delta, init: target, plus }, { ...NO_TRANS, transA0: true, alpha, biasScale: 1 }) as tf.Tensor2D[];
    return { sum: sum!, plus: both };
  }
  // Scale the small [batch, n] factor, never the n x n product.
  const d = delta.mul(alpha);
  const g = (matMulTransposesInPlace() ? tf.matMul(a, d, true, false) : tf.matMul(tf.transpose(a), d)) as tf.Tensor2D;
  d.dispose();
  let sum = g;
  if (target) {
    sum = target.add(g);
    // Free n x n buffers now rather than at the end of the tidy (peak memory).
    g.dispose();
  }
  return { sum, plus: plus?.add(sum) };
}

/** target + alpha Σ_rows delta (target null: the bias gradient), and plus + that when `plus` is given. */
export function addColSum(target: tf.Tensor1D | null, delta: tf.Tensor2D, alpha: number, plus?: tf.Tensor1D): Accumulated<tf.Tensor1D> {
  if (fused(COLSUM_KERNEL)) {
    const [sum, both] = run(COLSUM_KERNEL, { x: delta, init: target, plus }, { alpha }) as tf.Tensor1D[];
    return { sum: sum!, plus: both };
  }
  const g = delta.sum(0).mul(alpha) as tf.Tensor1D;
  const sum = target ? (target.add(g) as tf.Tensor1D) : g;
  return { sum, plus: plus?.add(sum) };
}

/** [phi, phi', ..., phi^(order)](z); the caller owns the outputs. */
export function activationDerivs(name: ActivationName, z: tf.Tensor2D, order: 0 | 1 | 2 | 3): tf.Tensor2D[] {
  if (fused(ACTIVATION_KERNEL)) return run(ACTIVATION_KERNEL, { x: z }, { activation: name, order }) as tf.Tensor2D[];
  const act = getActivation(name);
  return (order === 0 ? [act.f(z)] : act.derivs(z, order)) as tf.Tensor2D[];
}

/**
 * phi(z0 + dz) - phi(z0) (Activation.delta: a Taylor series or the direct difference), the direct
 * difference's phi by the same kernel as a0 = phi(z0) where that is fused, so both terms round alike.
 */
export function activationDelta(name: ActivationName, z0: tf.Tensor2D, a0: tf.Tensor2D, d: readonly tf.Tensor2D[], dz: tf.Tensor2D): tf.Tensor2D {
  const act = getActivation(name);
  if (!fused(ACTIVATION_KERNEL)) return act.delta(z0, a0, d, dz) as tf.Tensor2D;
  return act.delta(z0, a0, d, dz, (x) => run(ACTIVATION_KERNEL, { x }, { activation: name, order: 0 })[0]!) as tf.Tensor2D;
}

/** The MSE loss value of the residual f - y: lossScale * mean of its squares. (No tidy.) */
export function mseOfResidual(diff: tf.Tensor2D, lossScale = 1): tf.Scalar {
  return tf.square(diff).sum().mul(lossScale / (diff.shape[0] * diff.shape[1])) as tf.Scalar;
}

/**
 * MSE loss value (scalar tensor) of f (+ g, where given: f_lin = f0 + JVP) against y, and its
 * cotangent dL/df.
 */
export function mseLoss(f: tf.Tensor2D, y: tf.Tensor2D, lossScale = 1, g?: tf.Tensor2D): { loss: tf.Scalar; cot: tf.Tensor2D } {
  if (fused(MSE_KERNEL)) {
    const [loss, cot] = run(MSE_KERNEL, { f, y, g }, { scale: lossScale });
    return { loss: loss as tf.Scalar, cot: cot as tf.Tensor2D };
  }
  const total = g ? (f.add(g) as tf.Tensor2D) : f;
  return tf.tidy(() => {
    const diff = total.sub(y) as tf.Tensor2D;
    const n = total.shape[0] * total.shape[1];
    return { loss: mseOfResidual(diff, lossScale), cot: diff.mul((2 * lossScale) / n) as tf.Tensor2D };
  });
}
