// Elementwise float32 add and multiply four lanes at a time (WebAssembly SIMD, f32x4) on the wasm
// heap, for the fused kernels' second outputs and their ⊙ phi' (backends/blas-fused.ts). IEEE single
// operations: the same values as tf.add / tf.mul (and as a JavaScript loop, whose float64 result of
// one + or * rounds to the same float32). The last n % 4 elements in JavaScript.
import { Code, I32, moduleBytes } from './wasm-emit.ts';

/** fn(out, a, b, bytes): out[i] = a[i] op b[i] for bytes / 16 groups of four (out may be a or b). */
function binaryCode(op: 'f32x4.add' | 'f32x4.mul'): Code {
  const c = new Code([I32, I32, I32, I32], []);
  const [out, a, b, bytes] = [0, 1, 2, 3];
  const i = c.local(I32);
  c.block().loop();
  c.get(i).get(bytes).i32ltU().i32eqz().brIf(1);
  c.get(out).get(i).i32add();
  c.get(a).get(i).i32add().load();
  c.get(b).get(i).i32add().load();
  c.op(op).store();
  c.get(i).i32(16).i32add().set(i);
  c.br(0).end().end();
  return c;
}

type Binary = (out: number, a: number, b: number, bytes: number) => void;
export type Elementwise = {
  /** out = a + b */
  add(out: Float32Array, a: Float32Array, b: Float32Array): void;
  /** out = a * b */
  mul(out: Float32Array, a: Float32Array, b: Float32Array): void;
};

/** The kernels on `memory`; every array handed to them must be a view on it. */
export function elementwiseSimd(memory: WebAssembly.Memory): Elementwise {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = moduleBytes({ sharedMemory: shared, functions: [{ name: 'add', code: binaryCode('f32x4.add') }, { name: 'mul', code: binaryCode('f32x4.mul') }] });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as { add: Binary; mul: Binary };
  const run = (fn: Binary, scalar: (x: number, y: number) => number) => (out: Float32Array, a: Float32Array, b: Float32Array): void => {
    const n = out.length;
    for (const v of [a, b]) if (v.length !== n) throw new Error(`elementwise (SIMD): lengths ${n} and ${v.length}`);
    for (const v of [out, a, b]) if (v.buffer !== memory.buffer) throw new Error('elementwise (SIMD): arrays must be views on the memory of the kernels');
    const quads = n - (n % 4);
    fn(out.byteOffset, a.byteOffset, b.byteOffset, 4 * quads);
    for (let i = quads; i < n; i++) out[i] = scalar(a[i]!, b[i]!);
  };
  return { add: run(ex.add, (x, y) => x + y), mul: run(ex.mul, (x, y) => x * y) };
}
