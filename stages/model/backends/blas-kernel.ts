// The `blas` backend's matmul: tfjs's BatchMatMul kernel for the wasm backend's instance, computed by
// OpenBLAS's cblas_sgemm (cblas_sgemv for a vector operand; through koffi) directly on the operands' Float32Array views of the wasm
// heap (no copies), with CblasTrans for transposed operands. Everything else is the wasm backend's.
// Loaded only inside register() (it needs tfjs and koffi); types only at the top.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { TfModule } from './types.ts';

/** cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) */
export type Sgemm = (
  order: number, transA: number, transB: number, m: number, n: number, k: number,
  alpha: number, a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number,
) => void;

/** cblas_sgemv(order, trans, M, N, alpha, A, lda, x, incx, beta, y, incy) */
export type Sgemv = (
  order: number, trans: number, m: number, n: number,
  alpha: number, a: Float32Array, lda: number, x: Float32Array, incx: number, beta: number, y: Float32Array, incy: number,
) => void;

/** OpenBLAS's entry points the kernel calls. */
export type Blas = { sgemm: Sgemm; sgemv: Sgemv };

export const CBLAS_ROW_MAJOR = 101;
export const CBLAS_NO_TRANS = 111;
export const CBLAS_TRANS = 112;

type MatMulAttrs = { transposeA: boolean; transposeB: boolean };

/**
 * C[i] = op(A[i]) op(B[i]) for every batch i (a batch of 1 broadcasts, as the wasm kernel does),
 * in row-major order: A is [..., M, K] ([..., K, M] when transposed), B [..., K, N] ([..., N, K]).
 */
export function batchMatMulOnHeap(tf: TfModule, blas: Blas, backend: BackendWasm, a: TensorInfo, b: TensorInfo, attrs: MatMulAttrs): TensorInfo {
  const { transposeA, transposeB } = attrs;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error('BatchMatMul (blas) supports float32 only');
  const ra = a.shape.length, rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) {
    throw new Error(`Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw new Error(`BatchMatMul (blas): batch sizes ${batchA} and ${batchB} of shapes ${a.shape} and ${b.shape} do not broadcast`);
  }
  const out = backend.makeOutput([...outer, m, n], 'float32');
  // Views after makeOutput: an allocation may grow the heap and detach older views.
  const av = backend.typedArrayFromHeap(a) as Float32Array;
  const bv = backend.typedArrayFromHeap(b) as Float32Array;
  const cv = backend.typedArrayFromHeap(out) as Float32Array;
  if (m === 0 || n === 0) return out;
  if (k === 0) {
    cv.fill(0);
    return out;
  }
  const lda = transposeA ? m : k, ldb = transposeB ? k : n;
  const sa = m * k, sb = k * n, sc = m * n;
  for (let i = 0; i < batch; i++) {
    const A = batch === 1 ? av : av.subarray((batchA === 1 ? 0 : i) * sa, (batchA === 1 ? 1 : i + 1) * sa);
    const B = batch === 1 ? bv : bv.subarray((batchB === 1 ? 0 : i) * sb, (batchB === 1 ? 1 : i + 1) * sb);
    const C = batch === 1 ? cv : cv.subarray(i * sc, (i + 1) * sc);
    product(blas, { m, n, k, transposeA, transposeB, lda, ldb }, A, B, C);
  }
  return out;
}

export type Shape = { m: number; n: number; k: number; transposeA: boolean; transposeB: boolean; lda: number; ldb: number };

/**
 * One row-major product C = alpha op(A) op(B) + beta C (beta 0: C is only written). A single column or row is a matrix-vector product:
 * OpenBLAS's sgemm with N = 1 runs 3-7x slower than its sgemv here (1600 x 1280: 1.2-1.3 ms vs
 * 0.2-0.4 ms), and function-space training does one every step. A vector of length k is contiguous
 * whether or not it is marked transposed.
 */
export function product(blas: Blas, s: Shape, A: Float32Array, B: Float32Array, C: Float32Array, alpha = 1, beta = 0): void {
  const { m, n, k, transposeA, transposeB, lda, ldb } = s;
  if (n === 1) {
    // C[m] = op(A) b: A stored [m, k] (or [k, m] when transposed).
    if (transposeA) blas.sgemv(CBLAS_ROW_MAJOR, CBLAS_TRANS, k, m, alpha, A, lda, B, 1, beta, C, 1);
    else blas.sgemv(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, m, k, alpha, A, lda, B, 1, beta, C, 1);
    return;
  }
  if (m === 1) {
    // C[n] = op(B)^T a: B stored [k, n] (or [n, k] when transposed).
    if (transposeB) blas.sgemv(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, n, k, alpha, B, ldb, A, 1, beta, C, 1);
    else blas.sgemv(CBLAS_ROW_MAJOR, CBLAS_TRANS, k, n, alpha, B, ldb, A, 1, beta, C, 1);
    return;
  }
  blas.sgemm(CBLAS_ROW_MAJOR, transposeA ? CBLAS_TRANS : CBLAS_NO_TRANS, transposeB ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, k, alpha, A, lda, B, ldb, beta, C, n);
}

/** The kernel config: BatchMatMul for backend `backendName` on sgemm (sgemv for a vector operand). */
export function blasMatMulKernel(tf: TfModule, blas: Blas, backendName: string): KernelConfig {
  return {
    kernelName: tf.BatchMatMul,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      return batchMatMulOnHeap(tf, blas, backend as BackendWasm, a, b, attrs as unknown as MatMulAttrs);
    },
  };
}
