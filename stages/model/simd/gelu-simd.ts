// GELU and GELU' for the blas backend's activation kernel, two lanes at a time in WebAssembly SIMD
// (f64x2: float64 inside, one rounding to float32), on the wasm heap where the tensors live.
// Phi(-|x|) = pdf(x) M(|x|), M the Mills ratio, as M(y) = (1 - t) g(t), t = y / (y + C), g a degree-10
// polynomial (least-squares fit for relative error, ~1e-9 on 0 <= y <= 15); pdf by exp(-x^2/2) in
// float64 (a degree-7 polynomial after the 2^k reduction, 4e-11). Branch-free: lanes with |x| > 15, NaN or
// Inf are only flagged, and the caller redoes them in float64 (activation-kernels.ts), as it does an
// odd last element.
import { activationDerivsInto } from '../activation-kernels.ts';
import { Code, I32, V128, moduleBytes } from './wasm-emit.ts';

/** Where the polynomial M fit holds; beyond it the caller takes over (outputs there are 0, 1 or x in float32 up to ~1e-44). */
export const GELU_SIMD_RANGE = 15;
const C = 3;
// g(t) = M(y) / (1 - t), t = y / (y + 3): fit on [0, 15.5] (tools: mpmath references, Lawson-weighted least squares).
const G = [1.2533141384925348, -1.7466862005586776, 0.8932440541493407, 0.17274472474751973, -0.21434578065915, -0.11611116968856114,
  0.09690881309599411, -0.09479869072340359, 0.21941191610092425, -0.17698086524014406, 0.04663618259095985];
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const ROUNDER = 6755399441055744; // 1.5 * 2^52
const ROUNDER_BITS = new BigInt64Array(new Float64Array([ROUNDER]).buffer)[0]!;
const LN2_HI = 6.93147180369123816490e-1, LN2_LO = 1.90821492927058770002e-10;
// e^r on |r| <= ln2/2: degree 7, fitted for relative error (4e-11; the same fit as G's).
const E = [0.9999999999616809, 1.0000000002431029, 0.5000000104536007, 0.16666665126081032, 0.04166622542599485, 0.008333561099843243,
  0.0013948183298590176, 0.00019775166917130238];

/** gelu(x: i32, out0: i32, out1: i32 (0: none), bytes: i32) -> i32 (1 when a lane was out of range). */
function geluCode(): Code {
  const c = new Code([I32, I32, I32, I32], [I32]);
  const [x, out0, out1, bytes] = [0, 1, 2, 3];
  const i = c.local(I32);
  const [v, y, a, kr, kf, r, pdf, t, q, cdf, inRange] = Array.from({ length: 11 }, () => c.local(V128));
  c.i64x2(-1n).set(inRange);
  c.block().loop();
  c.get(i).get(bytes).i32ltU().i32eqz().brIf(1);
  c.get(x).get(i).i32add().load64Zero().op('f64x2.promote_low_f32x4').set(v);
  // Lanes in range so far (NaN compares false: out of range).
  c.get(v).op('f64x2.abs').tee(y).f64x2(GELU_SIMD_RANGE).op('f64x2.le').get(inRange).op('v128.and').set(inRange);
  // a = -x^2/2 (exact: x is a float32); pdf = exp(a) / sqrt(2 pi), exp(a) = 2^k e^r
  c.get(v).get(v).op('f64x2.mul').f64x2(-0.5).op('f64x2.mul').tee(a);
  c.f64x2(Math.LOG2E).op('f64x2.mul').f64x2(ROUNDER).op('f64x2.add').tee(kr);
  c.f64x2(ROUNDER).op('f64x2.sub').set(kf);
  c.get(a).get(kf).f64x2(LN2_HI).op('f64x2.mul').op('f64x2.sub').get(kf).f64x2(LN2_LO).op('f64x2.mul').op('f64x2.sub').set(r);
  c.f64x2(E[E.length - 1]!);
  for (let k = E.length - 2; k >= 0; k--) c.get(r).op('f64x2.mul').f64x2(E[k]!).op('f64x2.add');
  // 2^k from kr's bits: kr = ROUNDER + k, so bits(kr) - bits(ROUNDER) = k; (k + 1023) << 52 is 2^k.
  c.get(kr).i64x2(ROUNDER_BITS - 1023n).op('i64x2.sub').i32(52).op('i64x2.shl');
  c.op('f64x2.mul').f64x2(INV_SQRT_2PI).op('f64x2.mul').set(pdf);
  // t = y / (y + C); q = Phi(-y) = pdf (1 - t) g(t)
  c.get(y).get(y).f64x2(C).op('f64x2.add').op('f64x2.div').set(t);
  c.f64x2(G[G.length - 1]!);
  for (let k = G.length - 2; k >= 0; k--) c.get(t).op('f64x2.mul').f64x2(G[k]!).op('f64x2.add');
  c.f64x2(1).get(t).op('f64x2.sub').op('f64x2.mul').get(pdf).op('f64x2.mul').set(q);
  // Phi(x) = 1 - q for x > 0, q otherwise
  c.f64x2(1).get(q).op('f64x2.sub').get(q).get(v).f64x2(0).op('f64x2.gt').op('v128.bitselect').set(cdf);
  c.get(out0).get(i).i32add().get(v).get(cdf).op('f64x2.mul').op('f32x4.demote_f64x2_zero').store64Lane0();
  c.get(out1).if();
  c.get(out1).get(i).i32add().get(cdf).get(v).get(pdf).op('f64x2.mul').op('f64x2.add');
  c.op('f32x4.demote_f64x2_zero').store64Lane0();
  c.end();
  c.get(i).i32(8).i32add().set(i);
  c.br(0).end().end();
  c.get(inRange).op('v128.not').op('v128.any_true');
  return c;
}

export type GeluSimd = (xPtr: number, out0Ptr: number, out1Ptr: number, bytes: number) => number;

/** Instantiates the kernel on `memory` (the tfjs wasm backend's heap). */
export function geluSimd(memory: WebAssembly.Memory): GeluSimd {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = moduleBytes({ sharedMemory: shared, functions: [{ name: 'gelu', code: geluCode() }] });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return inst.exports.gelu as GeluSimd;
}

/**
 * out[0] = gelu(x), out[1] = gelu'(x) (out.length 1 or 2) by `kernel`, all three views on the
 * memory it was instantiated on; the lanes it flags and an odd last element in float64
 * (activation-kernels.ts), so NaN, +-Inf and |x| > GELU_SIMD_RANGE get that kernel's values.
 */
export function geluInto(kernel: GeluSimd, x: Float32Array, out: readonly Float32Array[]): void {
  if (out.length < 1 || out.length > 2) throw new Error(`gelu (SIMD): ${out.length} outputs (gelu and gelu' at most)`);
  for (const o of [x, ...out]) if (o.length !== x.length || o.buffer !== x.buffer) throw new Error('gelu (SIMD): outputs must be as long as x and on the same memory');
  const n = x.length, even = n - (n % 2);
  const flagged = kernel(x.byteOffset, out[0]!.byteOffset, out[1]?.byteOffset ?? 0, 4 * even) !== 0;
  for (let i = flagged ? 0 : even; i < n; i++) {
    if (i < even && Math.abs(x[i]!) <= GELU_SIMD_RANGE) continue;
    activationDerivsInto('gelu', x.subarray(i, i + 1), out.map((o) => o.subarray(i, i + 1)));
  }
}
