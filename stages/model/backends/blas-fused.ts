// The fused kernels of the `blas` backend (names and attributes: ../fused-kernel-names.ts): one tfjs
// op each where the generic path (../layer-ops.ts) runs a chain of 2-12 ops, which at width 256 cost
// more in per-op dispatch than in arithmetic. They compute on the operands' Float32Array views of
// the wasm heap: products by OpenBLAS (sgemm / sgemv with beta = 1 to accumulate into a prepared
// output), elementwise products and sums in WebAssembly SIMD (../simd/), activations in float64 with one
// rounding (GELU and GELU' in SIMD, ../simd/gelu-simd.ts; the rest scalar, ../activation-kernels.ts).
// Loaded only inside register() (it needs tfjs and koffi); types only at the top.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { activationDerivsInto, MAX_KERNEL_ORDER } from '../activation-kernels.ts';
import { ACTIVATIONS } from '../activation-names.ts';
import {
  ACTIVATION_KERNEL, COLSUM_KERNEL, GEMM_KERNEL, MSE_KERNEL,
  type ActivationAttrs, type ColSumAttrs, type GemmAttrs, type MseAttrs,
} from '../fused-kernel-names.ts';
import { elementwiseSimd, type Elementwise } from '../simd/elementwise-simd.ts';
import { geluInto, geluSimd, type GeluSimd } from '../simd/gelu-simd.ts';
import { CBLAS_ROW_MAJOR, CBLAS_TRANS, product, type Blas } from './blas-kernel.ts';

type Heap = { backend: BackendWasm };

function f32(kernel: string, what: string, t: TensorInfo | undefined): TensorInfo {
  if (!t) throw new Error(`${kernel}: input '${what}' is missing`);
  if (t.dtype !== 'float32') throw new Error(`${kernel}: input '${what}' is ${t.dtype}, expected float32`);
  return t;
}

function sameShape(kernel: string, what: string, t: TensorInfo, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${kernel}: input '${what}' has shape [${t.shape}], expected [${shape}]`);
  }
}

const view = (backend: BackendWasm, t: TensorInfo): Float32Array => backend.typedArrayFromHeap(t) as Float32Array;

type Term = { m: number; n: number; k: number; transposeA: boolean; transposeB: boolean; lda: number; ldb: number; a: TensorInfo; b: TensorInfo };

function term(a: TensorInfo, b: TensorInfo, ta: boolean, tb: boolean, i: number): Term {
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new Error(`${GEMM_KERNEL}: a${i}, b${i} must be 2-D (got [${a.shape}] and [${b.shape}])`);
  const m = ta ? a.shape[1]! : a.shape[0]!, k = ta ? a.shape[0]! : a.shape[1]!;
  const kb = tb ? b.shape[1]! : b.shape[0]!, n = tb ? b.shape[0]! : b.shape[1]!;
  if (k !== kb) throw new Error(`${GEMM_KERNEL}: inner sizes of a${i} [${a.shape}] (transposed: ${ta}) and b${i} [${b.shape}] (transposed: ${tb}) differ: ${k} vs ${kb}`);
  return { m, n, k, transposeA: ta, transposeB: tb, lda: ta ? m : k, ldb: tb ? k : n, a, b };
}

function gemm(h: Heap, blas: Blas, inputs: NamedTensorInfoMap, attrs: GemmAttrs): TensorInfo[] {
  const K = GEMM_KERNEL;
  const terms = [term(f32(K, 'a0', inputs.a0), f32(K, 'b0', inputs.b0), attrs.transA0, attrs.transB0, 0)];
  if (inputs.a1 || inputs.b1) terms.push(term(f32(K, 'a1', inputs.a1), f32(K, 'b1', inputs.b1), attrs.transA1, attrs.transB1, 1));
  const { m, n } = terms[0]!;
  for (const t of terms) if (t.m !== m || t.n !== n) throw new Error(`${K}: the products are [${m}, ${n}] and [${t.m}, ${t.n}]`);
  const { bias, init, mul, plus } = inputs;
  if (bias && init) throw new Error(`${K}: give bias or init, not both`);
  if (bias) sameShape(K, 'bias', f32(K, 'bias', bias), [n]);
  for (const [what, t] of [['init', init], ['mul', mul], ['plus', plus]] as const) if (t) sameShape(K, what, f32(K, what, t), [m, n]);
  const out = h.backend.makeOutput([m, n], 'float32');
  const both = plus ? h.backend.makeOutput([m, n], 'float32') : undefined;
  // Views after every allocation: one may grow the heap and detach older views.
  const c = view(h.backend, out);
  let beta = 0;
  if (init) {
    c.set(view(h.backend, init));
    beta = 1;
  } else if (bias) {
    const b = view(h.backend, bias);
    const s = Math.fround(attrs.biasScale);
    const row = s === 1 ? b : b.map((v) => v * s);
    for (let r = 0; r < m; r++) c.set(row, r * n);
    beta = 1;
  }
  for (const t of terms) {
    if (t.k === 0 || m === 0 || n === 0) continue;
    product(blas, t, view(h.backend, t.a), view(h.backend, t.b), c, attrs.alpha, beta);
    beta = 1;
  }
  if (beta === 0) c.fill(0);
  const simd = simdOf(h.backend).elementwise;
  if (mul) simd.mul(c, c, view(h.backend, mul));
  if (!both || !plus) return [out];
  simd.add(view(h.backend, both), view(h.backend, plus), c);
  return [out, both];
}

// Ones for sgemv's column sums, grown as needed (outside the wasm heap: koffi passes any typed array).
let ones = new Float32Array(0);

function colSum(h: Heap, blas: Blas, inputs: NamedTensorInfoMap, attrs: ColSumAttrs): TensorInfo[] {
  const K = COLSUM_KERNEL;
  const x = f32(K, 'x', inputs.x);
  if (x.shape.length !== 2) throw new Error(`${K}: x must be 2-D (got [${x.shape}])`);
  const [rows, n] = x.shape as [number, number];
  const { init, plus } = inputs;
  for (const [what, t] of [['init', init], ['plus', plus]] as const) if (t) sameShape(K, what, f32(K, what, t), [n]);
  const out = h.backend.makeOutput([n], 'float32');
  const both = plus ? h.backend.makeOutput([n], 'float32') : undefined;
  const c = view(h.backend, out);
  if (init) c.set(view(h.backend, init));
  if (rows > 0 && n > 0) {
    if (ones.length < rows) ones = new Float32Array(rows).fill(1);
    // c = alpha xᵀ 1 + beta c
    blas.sgemv(CBLAS_ROW_MAJOR, CBLAS_TRANS, rows, n, attrs.alpha, view(h.backend, x), n, ones, 1, init ? 1 : 0, c, 1);
  } else if (!init) c.fill(0);
  if (!both || !plus) return [out];
  simdOf(h.backend).elementwise.add(view(h.backend, both), view(h.backend, plus), c);
  return [out, both];
}

// The SIMD kernels, one instance per wasm heap (the tfjs module's WebAssembly.Memory).
type Simd = { gelu: GeluSimd; elementwise: Elementwise };
const simdKernels = new WeakMap<WebAssembly.Memory, Simd>();

function simdOf(backend: BackendWasm): Simd {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error(`blas fused kernels: the wasm backend's heap (Module.asm.memory) was not found: a changed @tensorflow/tfjs-backend-wasm?`);
  let k = simdKernels.get(memory);
  if (!k) simdKernels.set(memory, (k = { gelu: geluSimd(memory), elementwise: elementwiseSimd(memory) }));
  return k;
}

function activation(h: Heap, inputs: NamedTensorInfoMap, attrs: ActivationAttrs): TensorInfo[] {
  const K = ACTIVATION_KERNEL;
  const x = f32(K, 'x', inputs.x);
  if (!ACTIVATIONS.includes(attrs.activation)) throw new Error(`${K}: unknown activation '${attrs.activation}' (expected one of ${ACTIVATIONS.join(', ')})`);
  if (!Number.isInteger(attrs.order) || attrs.order < 0 || attrs.order > MAX_KERNEL_ORDER) throw new Error(`${K}: order ${attrs.order} is not 0..${MAX_KERNEL_ORDER}`);
  const outs: TensorInfo[] = [];
  for (let k = 0; k <= attrs.order; k++) outs.push(h.backend.makeOutput([...x.shape], 'float32'));
  const xv = view(h.backend, x), ov = outs.map((o) => view(h.backend, o));
  // Training's GELU and GELU' (A.2's hot loop) two lanes at a time; everything else in scalar float64
  // (phi alone too: evaluations take their difference form's phi from it, as their order-3 traces' a0).
  if (attrs.activation === 'gelu' && attrs.order === 1) geluInto(simdOf(h.backend).gelu, xv, ov);
  else activationDerivsInto(attrs.activation, xv, ov);
  return outs;
}

function mse(h: Heap, inputs: NamedTensorInfoMap, attrs: MseAttrs): TensorInfo[] {
  const K = MSE_KERNEL;
  const f = f32(K, 'f', inputs.f);
  sameShape(K, 'y', f32(K, 'y', inputs.y), f.shape);
  if (inputs.g) sameShape(K, 'g', f32(K, 'g', inputs.g), f.shape);
  const loss = h.backend.makeOutput([], 'float32');
  const cot = h.backend.makeOutput([...f.shape], 'float32');
  const fv = view(h.backend, f), yv = view(h.backend, inputs.y!), cv = view(h.backend, cot);
  const gv = inputs.g ? view(h.backend, inputs.g) : undefined;
  const size = fv.length;
  const k = Math.fround((2 * attrs.scale) / size);
  // The residual in float32 as the generic path forms it (f + g rounded, then - y), the sum of squares in float64.
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const r = Math.fround((gv ? Math.fround(fv[i]! + gv[i]!) : fv[i]!) - yv[i]!);
    sum += r * r;
    cv[i] = r * k;
  }
  view(h.backend, loss)[0] = (attrs.scale * sum) / size;
  return [loss, cot];
}

/** The fused kernels for tfjs backend `backendName` (a wasm backend instance; its heap holds the tensors). */
export function blasFusedKernels(blas: Blas, backendName: string): KernelConfig[] {
  const heap = (backend: unknown): Heap => ({ backend: backend as BackendWasm });
  return [
    { kernelName: GEMM_KERNEL, backendName, kernelFunc: ({ inputs, backend, attrs }) => gemm(heap(backend), blas, inputs, attrs as unknown as GemmAttrs) },
    { kernelName: COLSUM_KERNEL, backendName, kernelFunc: ({ inputs, backend, attrs }) => colSum(heap(backend), blas, inputs, attrs as unknown as ColSumAttrs) },
    { kernelName: ACTIVATION_KERNEL, backendName, kernelFunc: ({ inputs, backend, attrs }) => activation(heap(backend), inputs, attrs as unknown as ActivationAttrs) },
    { kernelName: MSE_KERNEL, backendName, kernelFunc: ({ inputs, backend, attrs }) => mse(heap(backend), inputs, attrs as unknown as MseAttrs) },
  ];
}
