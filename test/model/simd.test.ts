// The WebAssembly SIMD kernels (stages/model/simd/, emitted by wasm-emit.ts), each on a memory of its
// own. Elementwise add and multiply: tf.add's and tf.mul's float32 values bit for bit. The GELU: gelu and gelu' against the float64 references over the float32 range (the inputs of
// activation-kernels.test.ts), with its fitted polynomial's error as the bound: 1 ulp plus 4e-9 of
// the largest term (gelu' = Phi + x pdf cancels near its root at -0.75); NaN, +-Inf, |x| > 15 and an
// odd last element through the float64 kernel, bit for bit.
import assert from 'node:assert/strict';
import { activationDerivsInto } from '../../stages/model/activation-kernels.ts';
import { elementwiseSimd } from '../../stages/model/simd/elementwise-simd.ts';
import { GELU_SIMD_RANGE, geluInto, geluSimd } from '../../stages/model/simd/gelu-simd.ts';
import { Code, I32, moduleBytes } from '../../stages/model/simd/wasm-emit.ts';
import { activationInputs, reference, ulp32 } from './activation-ref64.ts';
import { testValues } from './ref64.ts';

/** x and `outs` outputs as views on a fresh memory, x's values copied in. */
function onMemory(values: Float32Array, outs: number): { memory: WebAssembly.Memory; x: Float32Array; out: Float32Array[] } {
  const n = values.length;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((4 * n * (outs + 1) + 64) / 65536) });
  // An odd offset of 4 bytes: the kernel must not rely on 8- or 16-byte alignment.
  const x = new Float32Array(memory.buffer, 4, n);
  x.set(values);
  const out = Array.from({ length: outs }, (_, k) => new Float32Array(memory.buffer, 4 + 4 * n * (k + 1), n));
  return { memory, x, out };
}

describe('model/simd: GELU and GELU\' two lanes at a time (f64x2)', () => {
  it('within 1 ulp + 4e-9 of the largest term of float64 over the float32 range', () => {
    const values = activationInputs('gelu');
    const { memory, x, out } = onMemory(values, 2);
    geluInto(geluSimd(memory), x, out);
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const ref = reference('gelu', x[i]!);
      for (let k = 0; k < 2; k++) {
        const [want, terms] = ref[k]!;
        const g = out[k]![i]!;
        if (!Number.isFinite(want)) {
          assert.ok(Object.is(g, want) || (Number.isNaN(g) && Number.isNaN(want)), `gelu^(${k})(${x[i]}) = ${g}, want ${want}`);
          continue;
        }
        const scale = Math.max(Math.abs(want), terms);
        const err = Math.abs(g - want);
        assert.ok(err <= ulp32(want) + 4e-9 * scale, `gelu^(${k})(${x[i]}) = ${g}, float64 ${want}: error ${err.toExponential(2)}, ${(err / ulp32(want)).toFixed(2)} ulp`);
        worst = Math.max(worst, (err - 4e-9 * scale) / ulp32(want));
      }
    }
    assert.ok(worst <= 1, `worst ${worst} ulp beyond the fit's allowance`);
  });

  it('equals the float64 kernel where it hands over (NaN, +-Inf, |x| > 15, the odd last element), and agrees with it elsewhere', () => {
    const special = [NaN, Infinity, -Infinity, 15.5, -15.5, 40, -40, 1e30, -1e30, 0.3, -2.5];
    for (const len of [special.length, special.length - 1]) {
      const values = Float32Array.from(special.slice(0, len));
      const { memory, x, out } = onMemory(values, 2);
      geluInto(geluSimd(memory), x, out);
      const want = [new Float32Array(len), new Float32Array(len)];
      activationDerivsInto('gelu', values, want);
      for (let i = 0; i < len; i++) {
        const handedOver = !(Math.abs(values[i]!) <= GELU_SIMD_RANGE) || i === len - 1 && len % 2 === 1;
        for (let k = 0; k < 2; k++) {
          if (handedOver) assert.ok(Object.is(out[k]![i], want[k]![i]), `gelu^(${k})(${values[i]}) = ${out[k]![i]}, float64 kernel ${want[k]![i]}`);
          else assert.ok(Math.abs(out[k]![i]! - want[k]![i]!) <= 2 * ulp32(want[k]![i]!), `gelu^(${k})(${values[i]})`);
        }
      }
    }
  });

  it('one output (gelu only) writes nothing else; outputs must be views on the kernel\'s memory', () => {
    const { memory, x, out } = onMemory(Float32Array.from([0.5, -1, 2, 3]), 2);
    out[1]!.fill(7);
    const k = geluSimd(memory);
    geluInto(k, x, [out[0]!]);
    assert.deepEqual(Array.from(out[1]!), [7, 7, 7, 7]);
    const want = [new Float32Array(4)];
    activationDerivsInto('gelu', Float32Array.from(x), want);
    out[0]!.forEach((v, i) => assert.ok(Math.abs(v - want[0]![i]!) <= 2 * ulp32(want[0]![i]!), `gelu(${x[i]})`));
    assert.throws(() => geluInto(k, x, [new Float32Array(4)]), /same memory/);
    assert.throws(() => geluInto(k, x, []), /0 outputs/);
  });

  it('the emitter writes modules WebAssembly validates, for shared and unshared memories', () => {
    const c = new Code([I32], [I32]);
    c.get(0).i32(-200000).i32add();
    for (const sharedMemory of [false, true]) {
      const bytes = moduleBytes({ sharedMemory, functions: [{ name: 'f', code: c }] });
      assert.ok(WebAssembly.validate(bytes), `shared ${sharedMemory}`);
      const memory = new WebAssembly.Memory(sharedMemory ? { initial: 1, maximum: 2, shared: true } : { initial: 1 });
      const f = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.f as (v: number) => number;
      assert.equal(f(1), -199999, 'a signed LEB128 constant');
    }
  });

  it('elementwise add and multiply (f32x4) equal float32 + and * bit for bit, any length, in place too', () => {
    for (const n of [0, 1, 3, 4, 5, 33, 1027]) {
      const u = testValues(n, 60 + n), w = testValues(n, 90 + n);
      const a0 = Float32Array.from(u, (v, i) => (i % 7 === 3 ? [NaN, Infinity, -0, 1e-45][i % 4]! : v * 10 ** ((i % 11) - 5)));
      const b0 = Float32Array.from(w, (v) => v * 3);
      const memory = new WebAssembly.Memory({ initial: 1 });
      const [a, b, out] = [4, 4 + 4 * n, 4 + 8 * n].map((o) => new Float32Array(memory.buffer, o, n)) as [Float32Array, Float32Array, Float32Array];
      a.set(a0);
      b.set(b0);
      const k = elementwiseSimd(memory);
      k.add(out, a, b);
      assert.deepEqual(Array.from(out), Array.from(a0, (v, i) => Math.fround(v + b0[i]!)), `add, n = ${n}`);
      k.mul(out, a, b);
      assert.deepEqual(Array.from(out), Array.from(a0, (v, i) => Math.fround(v * b0[i]!)), `mul, n = ${n}`);
      k.mul(a, a, b);
      assert.deepEqual(Array.from(a), Array.from(a0, (v, i) => Math.fround(v * b0[i]!)), `mul in place, n = ${n}`);
    }
    const k = elementwiseSimd(new WebAssembly.Memory({ initial: 1 }));
    assert.throws(() => k.add(new Float32Array(4), new Float32Array(4), new Float32Array(4)), /views on the memory/);
  });
});
