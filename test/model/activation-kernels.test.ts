// The fused activation kernels' arithmetic (stages/model/activation-kernels.ts: Cody's normal CDF,
// float64, one rounding) against independent float64 references over the whole float32 range:
// a dense grid on [-40, 40], random magnitudes from 2^-30 to 2^7, the roots of each derivative,
// subnormals, the largest floats, +-0, +-Inf and NaN. Bound per value: 1 ulp of float32 at the exact
// value, plus 2^-46 of the largest term where a derivative is a difference of terms (cancellation near
// its roots, in the reference as much as in the kernel); worst over all of them: 0.501 ulp (correct rounding).
import assert from 'node:assert/strict';
import { activationDerivsInto, expNonPositive } from '../../stages/model/activation-kernels.ts';
import { ACTIVATIONS, normalCdf64, type ActivationName } from '../../stages/model/activations.ts';
import { activationInputs as inputs, millsRatio, oneMinusTwoSigmoid, reference, ulp32 } from './activation-ref64.ts';
import { testValues } from './ref64.ts';

function evaluate(name: ActivationName, x: Float32Array, order: number): Float32Array[] {
  const out = Array.from({ length: order + 1 }, () => new Float32Array(x.length));
  activationDerivsInto(name, x, out);
  return out;
}

describe('model/activation-kernels: phi..phi\'\'\' in one pass, float64 inside, one rounding', () => {
  it('its exp (t <= 0) is within 1e-15 relative of Math.exp down to -708, and 0 below', () => {
    const t = testValues(200000, 5).map((v, i) => (i % 2 ? -708 * Math.abs(v) : -2 * Math.abs(v)));
    let worst = 0;
    for (const x of [...t, 0, -0, -1e-300, -Math.LN2, -708]) worst = Math.max(worst, Math.abs(expNonPositive(x) - Math.exp(x)) / Math.exp(x));
    assert.ok(worst <= 1e-15, `worst relative error ${worst}`);
    assert.equal(expNonPositive(-708.5), 0);
    assert.equal(expNonPositive(-Infinity), 0);
    assert.ok(Number.isNaN(expNonPositive(NaN)));
  });

  it('the float64 references agree where their methods overlap (continued fraction vs series at x = -5..-4)', () => {
    // The series' 1 + erf loses ~1e-16 absolute: 2e-10 relative at x = -5.
    for (let x = -5; x <= -4; x += 0.125) {
      const a = normalCdf64(x), b = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI) * millsRatio(-x);
      assert.ok(Math.abs(a - b) <= 1e-9 * b, `Phi(${x}): series ${a} vs continued fraction ${b}`);
    }
    for (const x of [0.09, 0.11, -0.5, 3]) assert.ok(Math.abs(oneMinusTwoSigmoid(x) + Math.tanh(x / 2)) <= 4e-16 * Math.abs(Math.tanh(x / 2)), `1 - 2s(${x})`);
  });

  for (const name of ACTIVATIONS) {
    it(`${name}: every derivative within 1 ulp of float32 over the float32 range`, () => {
      const x = inputs(name);
      const got = evaluate(name, x, 3);
      const worst = [0, 0, 0, 0];
      for (let i = 0; i < x.length; i++) {
        const ref = reference(name, x[i]!);
        for (let k = 0; k <= 3; k++) {
          const [want, terms] = ref[k]!;
          const g = got[k]![i]!;
          if (Number.isNaN(want)) {
            assert.ok(Number.isNaN(g), `${name}^(${k})(${x[i]}) = ${g}, want NaN`);
            continue;
          }
          if (!Number.isFinite(want)) {
            assert.equal(g, want, `${name}^(${k})(${x[i]})`);
            continue;
          }
          const ulp = ulp32(want);
          const err = Math.abs(g - want);
          assert.ok(err <= ulp + 2 ** -46 * terms, `${name}^(${k})(${x[i]}) = ${g}, float64 ${want}: error ${(err / ulp).toFixed(2)} ulp`);
          worst[k] = Math.max(worst[k]!, err / ulp);
        }
      }
      // The kernel rounds once, from float64 values ~1e-16 off: correctly rounded on all of these inputs (measured 0.500).
      assert.ok(Math.max(...worst) <= 0.501, `${name}: worst ${worst.map((w) => w.toFixed(3)).join(', ')} ulp`);
    });

    it(`${name}: NaN gives NaN in every output; +-Inf gives the limits; fewer outputs give the same values`, () => {
      const x = Float32Array.from([NaN, Infinity, -Infinity, 0.5]);
      const all = evaluate(name, x, 3);
      for (let k = 0; k <= 3; k++) assert.ok(Number.isNaN(all[k]![0]!), `${name}^(${k})(NaN)`);
      const lim: Record<ActivationName, [number[], number[]]> = {
        gelu: [[Infinity, 1, 0, 0], [0, 0, 0, 0]],
        erf: [[1, 0, 0, 0], [-1, 0, 0, 0]],
        sigmoid: [[1, 0, 0, 0], [0, 0, 0, 0]],
        relu: [[Infinity, 1, 0, 0], [0, 0, 0, 0]],
      };
      for (let k = 0; k <= 3; k++) {
        assert.ok(all[k]![1] === lim[name][0][k], `${name}^(${k})(+Inf) = ${all[k]![1]}`);
        assert.ok(all[k]![2] === lim[name][1][k], `${name}^(${k})(-Inf) = ${all[k]![2]}`);
      }
      for (let order = 0; order < 3; order++) {
        const part = evaluate(name, x, order);
        for (let k = 0; k <= order; k++) assert.deepEqual(Array.from(part[k]!), Array.from(all[k]!), `${name} order ${order}, output ${k}`);
      }
    });
  }

  it('rejects outputs of the wrong count or length and unknown activations', () => {
    const x = new Float32Array(4);
    assert.throws(() => activationDerivsInto('gelu', x, []), /0 outputs/);
    assert.throws(() => activationDerivsInto('gelu', x, Array.from({ length: 5 }, () => new Float32Array(4))), /5 outputs/);
    assert.throws(() => activationDerivsInto('gelu', x, [new Float32Array(3)]), /3 elements for 4 inputs/);
    assert.throws(() => activationDerivsInto('tanh' as ActivationName, x, [new Float32Array(4)]), /unknown activation 'tanh'/);
  });
});
