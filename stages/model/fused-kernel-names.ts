// Names and attributes of the fused kernels (layer-ops.ts calls them, a backend registers them:
// backends/blas-fused.ts). A leaf module, so neither side imports the other.
import type { ActivationName } from './activation-names.ts';

/**
 * C = mul ⊙ (base + alpha Σ_i op(a_i) op(b_i)), base = init or biasScale·1 biasᵀ (or 0); outputs
 * [C], or [C, plus + C] when `plus` is given. Inputs a0, b0 and optionally a1, b1, bias, init, mul, plus.
 */
export const GEMM_KERNEL = 'WeakcorrGemm';
export type GemmAttrs = { transA0: boolean; transB0: boolean; transA1: boolean; transB1: boolean; alpha: number; biasScale: number };

/** c = init + alpha Σ_rows x for x [rows, n]; outputs [c], or [c, plus + c]. Inputs x, optionally init, plus. */
export const COLSUM_KERNEL = 'WeakcorrColSum';
export type ColSumAttrs = { alpha: number };

/** [phi, phi', ..., phi^(order)](x), elementwise. Input x. */
export const ACTIVATION_KERNEL = 'WeakcorrActivation';
export type ActivationAttrs = { activation: ActivationName; order: number };

/** r = f (+ g) - y; outputs [scale · mean(r²) (a scalar), (2 scale / size) r]. Inputs f, y, optionally g. */
export const MSE_KERNEL = 'WeakcorrMse';
export type MseAttrs = { scale: number };

/** Bumped whenever a fused kernel's arithmetic changes: part of the blas backend's cache key. */
export const FUSED_KERNELS_VERSION = 1;
