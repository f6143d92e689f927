// The blas backend's fused kernels (stages/model/backends/blas-fused.ts) against float64
// references, each input combination the layer ops use (and the sgemv paths with beta = 1); the
// layer ops (stages/model/layer-ops.ts) fused on blas against their op chains on wasm; tfjs's leak
// check on every kernel. Tolerance: 1e-6 of the largest value (float32 sums of <= 300 terms).
import assert from 'node:assert/strict';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { probeOpenblas } from '../../stages/model/backends/openblas.ts';
import { activationDerivsInto } from '../../stages/model/activation-kernels.ts';
import { ACTIVATIONS, getActivation } from '../../stages/model/activations.ts';
import { ACTIVATION_KERNEL, COLSUM_KERNEL, GEMM_KERNEL, MSE_KERNEL, type GemmAttrs } from '../../stages/model/fused-kernel-names.ts';
import { activationDerivs, addColSum, addOuter, affine, backDelta, mseLoss, tangentAffine } from '../../stages/model/layer-ops.ts';
import { assertCloseNorm, testValues } from './ref64.ts';

const quiet = { log: (): void => {} };
const available = probeOpenblas().ok;

type M = { v: Float64Array; r: number; c: number };
const mat = (r: number, c: number, seed: number): M => ({ v: Float64Array.from(Float32Array.from(testValues(r * c, seed))), r, c });
const at = (m: M, i: number, j: number, t: boolean): number => (t ? m.v[j * m.c + i]! : m.v[i * m.c + j]!);
const t2 = (m: M): tf.Tensor2D => tf.tensor2d(Float32Array.from(m.v), [m.r, m.c]);
const t1 = (m: M): tf.Tensor1D => tf.tensor1d(Float32Array.from(m.v));

/** float64 C = mul ⊙ (base + alpha Σ op(a) op(b)). */
function gemm64(terms: [M, M, boolean, boolean][], alpha: number, o: { bias?: M; s?: number; init?: M; mul?: M }): Float64Array {
  const [a0, , ta0] = terms[0]!;
  const m = ta0 ? a0.c : a0.r;
  const [, b0, , tb0] = terms[0]!;
  const n = tb0 ? b0.r : b0.c;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let base = o.init ? o.init.v[i * n + j]! : o.bias ? (o.s ?? 1) * o.bias.v[j]! : 0;
      for (const [a, b, ta, tb] of terms) {
        const k = ta ? a.r : a.c;
        let s = 0;
        for (let q = 0; q < k; q++) s += at(a, i, q, ta) * at(b, q, j, tb);
        base += alpha * s;
      }
      out[i * n + j] = o.mul ? base * o.mul.v[i * n + j]! : base;
    }
  }
  return out;
}

function runGemm(inputs: Record<string, tf.Tensor>, attrs: Partial<GemmAttrs>): tf.Tensor[] {
  const a: GemmAttrs = { transA0: false, transB0: false, transA1: false, transB1: false, alpha: 1, biasScale: 1, ...attrs };
  const out = tf.engine().runKernel(GEMM_KERNEL, inputs, a as unknown as tf.NamedAttrMap);
  return Array.isArray(out) ? out : [out];
}

describe('model/backends: blas fused kernels', function () {
  this.timeout(120_000);
  before(async function () {
    if (!available && process.env.WEAKCORR_REQUIRE_BLAS === '1') throw new Error(`the blas backend is required here but does not load: ${probeOpenblas().reason}`);
    if (!available) this.skip();
    await selectBackend('blas', quiet);
    // tfjs's own check that a kernel allocates exactly its outputs.
    tf.env().set('IS_TEST', true);
  });
  after(async () => {
    tf.env().set('IS_TEST', false);
    await selectBackend('cpu', quiet);
  });

  it('gemm: every combination of terms, transposes, bias, init, mul and plus equals float64', () => {
    const n0 = tf.memory().numTensors;
    // [m, k] x [k, n] with every transpose; the bias / init / mul / plus variants; vectors (sgemv, beta = 1).
    for (const [m, k, n] of [[7, 5, 3], [1, 9, 6], [9, 6, 1], [130, 257, 65], [4, 1, 3]] as const) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const a = ta ? mat(k, m, 1) : mat(m, k, 1), b = tb ? mat(n, k, 2) : mat(k, n, 2);
        const a1 = mat(m, 4, 3), b1 = mat(4, n, 4);
        const bias = mat(1, n, 5), init = mat(m, n, 6), mul = mat(m, n, 7), plus = mat(m, n, 8);
        const label = `[${m}, ${k}] x [${k}, ${n}] ta=${ta} tb=${tb}`;
        tf.tidy(() => {
          const A = t2(a), B = t2(b);
          const [c0] = runGemm({ a0: A, b0: B }, { transA0: ta, transB0: tb, alpha: 1.25 });
          assertCloseNorm(c0!.dataSync(), gemm64([[a, b, ta, tb]], 1.25, {}), 1e-6, `${label}: product`);
          const [c1] = runGemm({ a0: A, b0: B, bias: t1(bias) }, { transA0: ta, transB0: tb, alpha: 0.5, biasScale: 0.75 });
          assertCloseNorm(c1!.dataSync(), gemm64([[a, b, ta, tb]], 0.5, { bias, s: 0.75 }), 1e-6, `${label}: bias`);
          const [c2, c2p] = runGemm({ a0: A, b0: B, init: t2(init), plus: t2(plus) }, { transA0: ta, transB0: tb, alpha: -0.3 });
          const want2 = gemm64([[a, b, ta, tb]], -0.3, { init });
          assertCloseNorm(c2!.dataSync(), want2, 1e-6, `${label}: init`);
          assertCloseNorm(c2p!.dataSync(), want2.map((v, i) => v + plus.v[i]!), 1e-6, `${label}: plus`);
          const [c3] = runGemm({ a0: A, b0: B, a1: t2(a1), b1: t2(b1), bias: t1(bias), mul: t2(mul) }, { transA0: ta, transB0: tb, alpha: 2 });
          assertCloseNorm(c3!.dataSync(), gemm64([[a, b, ta, tb], [a1, b1, false, false]], 2, { bias, mul }), 1e-6, `${label}: two terms, bias, mul`);
        });
      }
    }
    // k = 0: only the base.
    tf.tidy(() => {
      const [c] = runGemm({ a0: tf.zeros([3, 0]), b0: tf.zeros([0, 2]), bias: tf.tensor1d([1, 2]) }, { biasScale: 2 });
      assert.deepEqual(Array.from(c!.dataSync()), [2, 4, 2, 4, 2, 4]);
      const [z] = runGemm({ a0: tf.zeros([2, 0]), b0: tf.zeros([0, 2]) }, {});
      assert.deepEqual(Array.from(z!.dataSync()), [0, 0, 0, 0]);
    });
    assert.equal(tf.memory().numTensors, n0);
  });

  it('column sums (sgemv): with and without init and plus, one row, equal float64', () => {
    for (const [rows, n] of [[128, 256], [1, 7], [5, 1], [33, 10]] as const) {
      const x = mat(rows, n, 11), init = mat(1, n, 12), plus = mat(1, n, 13);
      const sums = new Float64Array(n);
      for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) sums[j] += x.v[i * n + j]!;
      tf.tidy(() => {
        const X = t2(x);
        const [g] = tf.engine().runKernel(COLSUM_KERNEL, { x: X }, { alpha: -0.5 }) as tf.Tensor[];
        assertCloseNorm(g!.dataSync(), sums.map((v) => -0.5 * v), 1e-6, `[${rows}, ${n}] gradient`);
        const [s, p] = tf.engine().runKernel(COLSUM_KERNEL, { x: X, init: t1(init), plus: t1(plus) }, { alpha: 3 }) as tf.Tensor[];
        const want = sums.map((v, j) => init.v[j]! + 3 * v);
        assertCloseNorm(s!.dataSync(), want, 1e-6, `[${rows}, ${n}] init`);
        assertCloseNorm(p!.dataSync(), want.map((v, j) => v + plus.v[j]!), 1e-6, `[${rows}, ${n}] plus`);
      });
    }
  });

  it('activation: the tfjs kernel computes activation-kernels.ts (GELU and GELU\' its SIMD form, gelu-simd.ts), and the op chains to float32 tolerance', () => {
    const x = Float32Array.from(testValues(64 * 33, 21).map((v) => 6 * v));
    for (const name of ACTIVATIONS) {
      for (const order of [0, 1, 2, 3] as const) {
        const want = Array.from({ length: order + 1 }, () => new Float32Array(x.length));
        activationDerivsInto(name, x, want);
        tf.tidy(() => {
          const xt = tf.tensor2d(x, [64, 33]);
          const got = tf.engine().runKernel(ACTIVATION_KERNEL, { x: xt }, { activation: name, order }) as tf.Tensor[];
          assert.equal(got.length, order + 1);
          const chain = order === 0 ? [getActivation(name).f(xt)] : getActivation(name).derivs(xt, order);
          got.forEach((g, k) => {
            assert.deepEqual(g.shape, [64, 33]);
            if (name === 'gelu' && order === 1) {
              // The SIMD GELU: its fit's 4e-9 (of the largest term, <= 1 here) beyond a rounding.
              const d = g.dataSync();
              want[k]!.forEach((w, i) => assert.ok(Math.abs(d[i]! - w) <= Math.abs(w) * 2 ** -23 + 4e-9, `gelu^(${k})(${x[i]}): ${d[i]} vs ${w}`));
            } else assert.deepEqual(g.dataSync(), want[k], `${name} order ${order}: output ${k}`);
            assertCloseNorm(g.dataSync(), chain[k]!.dataSync(), 2e-6, `${name}^(${k}) vs the op chain`);
          });
        });
      }
    }
  });

  it('MSE: loss and cotangent, with and without the added JVP, equal float64', () => {
    const f = mat(12, 10, 31), g = mat(12, 10, 32), y = mat(12, 10, 33);
    for (const withG of [false, true]) {
      const r = f.v.map((v, i) => v + (withG ? g.v[i]! : 0) - y.v[i]!);
      const loss = (0.5 * r.reduce((s, v) => s + v * v, 0)) / r.length;
      tf.tidy(() => {
        const out = tf.engine().runKernel(MSE_KERNEL, { f: t2(f), y: t2(y), ...(withG ? { g: t2(g) } : {}) }, { scale: 0.5 }) as tf.Tensor[];
        assert.deepEqual(out[0]!.shape, []);
        assertCloseNorm(out[0]!.dataSync(), [loss], 1e-6, `loss (g: ${withG})`);
        assertCloseNorm(out[1]!.dataSync(), r.map((v) => (2 * 0.5 * v) / r.length), 1e-6, `cotangent (g: ${withG})`);
      });
    }
  });

  it('clear errors for shapes and attributes that do not fit', () => {
    tf.tidy(() => {
      const a = tf.zeros([3, 4]), b = tf.zeros([5, 2]);
      assert.throws(() => runGemm({ a0: a, b0: b }, {}), /WeakcorrGemm: inner sizes of a0 \[3,4\] .* and b0 \[5,2\] .* differ: 4 vs 5/);
      assert.throws(() => runGemm({ a0: a, b0: tf.zeros([4, 2]), bias: tf.zeros([3]) }, {}), /WeakcorrGemm: input 'bias' has shape \[3\], expected \[2\]/);
      assert.throws(() => runGemm({ a0: a, b0: tf.zeros([4, 2]), mul: tf.zeros([2, 3]) }, {}), /input 'mul' has shape \[2,3\], expected \[3,2\]/);
      assert.throws(() => runGemm({ a0: a, b0: tf.zeros([4, 2]), a1: a }, {}), /input 'b1' is missing/);
      assert.throws(() => runGemm({ a0: a, b0: tf.zeros([4, 2], 'int32') }, {}), /input 'b0' is int32, expected float32/);
      assert.throws(() => tf.engine().runKernel(ACTIVATION_KERNEL, { x: a }, { activation: 'tanh', order: 1 }), /unknown activation 'tanh'/);
      assert.throws(() => tf.engine().runKernel(ACTIVATION_KERNEL, { x: a }, { activation: 'gelu', order: 4 }), /order 4 is not 0\.\.3/);
      assert.throws(() => tf.engine().runKernel(COLSUM_KERNEL, { x: a, init: tf.zeros([3]) }, { alpha: 1 }), /WeakcorrColSum: input 'init' has shape \[3\], expected \[4\]/);
      assert.throws(() => tf.engine().runKernel(MSE_KERNEL, { f: a, y: b }, { scale: 1 }), /WeakcorrMse: input 'y' has shape \[5,2\], expected \[3,4\]/);
    });
  });

  it('layer ops: fused on blas equal their op chains on wasm; under a gradient tape blas takes the chains', async () => {
    const a = mat(16, 12, 41), W = mat(12, 9, 42), b = mat(1, 9, 43), da = mat(16, 8, 44), W1 = mat(8, 9, 45), dphi = mat(16, 9, 46);
    const delta = mat(16, 9, 47), Wb = mat(12, 9, 48), y = mat(16, 9, 49), tgt = mat(12, 9, 50), tb = mat(1, 9, 51), base = mat(12, 9, 52);
    const compute = (): Float32Array[] => tf.tidy(() => {
      const outs: tf.Tensor[] = [
        affine(t2(a), t2(W), 0.7, t1(b), 0.2),
        tangentAffine(t2(a), t2(W), t2(da), t2(W1), 1.5, t1(b), 0.3, t2(dphi)),
        tangentAffine(t2(a), t2(W), null, t2(W1), 1, t1(b), 1),
        backDelta(t2(delta), t2(Wb), 0.9, t2(a)),
        ...Object.values(addOuter(t2(tgt), t2(a), t2(y), -0.1, t2(base))).filter((t): t is tf.Tensor2D => !!t),
        addOuter(null, t2(a), t2(y), 2).sum,
        ...Object.values(addColSum(t1(tb), t2(y), 0.5, t1(b))).filter((t): t is tf.Tensor1D => !!t),
        addColSum(null, t2(y), -1).sum,
        ...activationDerivs('gelu', t2(y), 2),
        ...Object.values(mseLoss(t2(y), t2(delta), 0.5, t2(dphi))),
      ];
      return outs.map((t) => t.dataSync() as Float32Array);
    });
    tf.env().set('IS_TEST', false);
    await selectBackend('wasm', quiet);
    const chains = compute();
    await selectBackend('blas', quiet);
    tf.env().set('IS_TEST', true);
    const fused = compute();
    assert.equal(fused.length, chains.length);
    fused.forEach((f, i) => assertCloseNorm(f, chains[i]!, 2e-6, `layer op output ${i}`));
    // tf.grad through the layer ops on blas: the kernels have no gradients, so the chains run.
    const g = tf.tidy(() => tf.grad((w: tf.Tensor) => activationDerivs('gelu', affine(t2(a), w as tf.Tensor2D, 1, t1(b), 1), 0)[0]!.sum())(t2(W)).dataSync());
    assert.equal(g.length, 12 * 9);
    assert.ok(g.every(Number.isFinite));
  });
});
