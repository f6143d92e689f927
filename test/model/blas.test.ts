import assert from 'node:assert/strict';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { describeBackendChoice } from '../../stages/model/backend-choice.ts';
import { backendOf } from '../../stages/model/backends/index.ts';
import { CORE_ENV, LIB_ENV, applyOpenblasEnv, betterCore, cpuFeatures, probeOpenblas } from '../../stages/model/backends/openblas.ts';
import { PairTrainer, disposeParams, hostToParams, initHostParams, paramsToHost, type MlpSpec } from '../../stages/model/mlp.ts';
import { assertCloseNorm, testValues } from './ref64.ts';

const quiet = { log: (): void => {} };
const available = probeOpenblas().ok;

/** float64 reference of op(A) op(B) for [batch, ., .] arrays (batch 1 broadcasts). */
function matmul64(a: Float64Array, aShape: number[], b: Float64Array, bShape: number[], ta: boolean, tb: boolean): Float64Array {
  const [ba, ra, ca] = aShape, [bb, rb, cb] = bShape;
  const m = ta ? ca : ra, k = ta ? ra : ca, n = tb ? rb : cb;
  const batch = Math.max(ba, bb);
  const out = new Float64Array(batch * m * n);
  for (let i = 0; i < batch; i++) {
    const ao = (ba === 1 ? 0 : i) * ra * ca, bo = (bb === 1 ? 0 : i) * rb * cb;
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < n; c++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += a[ao + (ta ? j * ca + r : r * ca + j)] * b[bo + (tb ? c * cb + j : j * cb + c)];
        out[i * m * n + r * n + c] = s;
      }
    }
  }
  return out;
}

describe('model/backends: blas (OpenBLAS sgemm as the wasm matmul)', function () {
  this.timeout(120_000);

  it('the core type: a generic core on an AVX-512 (AVX2) CPU becomes SkylakeX (Haswell); a user value is never replaced', () => {
    const avx512 = 'flags\t\t: fpu sse3 avx avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl\n';
    const avx2 = 'flags\t\t: fpu sse3 avx avx2 fma\n';
    assert.deepEqual(cpuFeatures(avx512), { avx512: true, avx2: true });
    assert.deepEqual(cpuFeatures(avx2), { avx512: false, avx2: true });
    assert.deepEqual(cpuFeatures('flags : sse3\n'), { avx512: false, avx2: false });
    assert.equal(betterCore('Prescott', cpuFeatures(avx512)), 'SkylakeX');
    assert.equal(betterCore('Nehalem', cpuFeatures(avx2)), 'Haswell');
    assert.equal(betterCore('Prescott', cpuFeatures('flags : sse3\n')), undefined);
    for (const c of ['SkylakeX', 'Cooperlake', 'Haswell', 'Zen', 'SapphireRapids']) assert.equal(betterCore(c, cpuFeatures(avx512)), undefined, c);
    const env: NodeJS.ProcessEnv = { [CORE_ENV]: 'Haswell' };
    applyOpenblasEnv({ ok: true, reason: '', env: { [CORE_ENV]: 'SkylakeX', OPENBLAS_NUM_THREADS: '1' } }, env);
    assert.deepEqual(env, { [CORE_ENV]: 'Haswell', OPENBLAS_NUM_THREADS: '1' });
  });

  it('a user-set AVX2 core on an AVX-512 CPU is kept, and named as the slower choice', function () {
    if (!available) this.skip();
    const avx512 = 'flags\t\t: fpu sse3 avx avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl\n';
    const info = probeOpenblas({ ...process.env, [CORE_ENV]: 'Haswell' }, avx512);
    assert.equal(info.coreSource, 'user');
    assert.equal(info.core, 'Haswell');
    assert.equal(info.env[CORE_ENV], undefined, 'never replaced');
    assert.match(info.reason, /OPENBLAS_CORETYPE=Haswell set by you; this CPU has AVX-512: unset OPENBLAS_CORETYPE .* or set OPENBLAS_CORETYPE=SkylakeX/);
    const avx2 = probeOpenblas({ ...process.env, [CORE_ENV]: 'Haswell' }, 'flags\t\t: fpu sse3 avx avx2 fma\n');
    assert.doesNotMatch(avx2.reason, /AVX-512/);
  });

  it('without the library (WEAKCORR_OPENBLAS pointing nowhere) auto skips blas, says why, and takes wasm', async () => {
    const saved = process.env[LIB_ENV];
    process.env[LIB_ENV] = '/nonexistent/libopenblas.so.0';
    try {
      const choice = describeBackendChoice('auto');
      assert.equal(choice.backend, 'wasm');
      assert.match(choice.tried.find((t) => t.name === 'blas')!.reason, /WEAKCORR_OPENBLAS=\/nonexistent\/libopenblas\.so\.0 does not exist/);
      const lines: string[] = [];
      const info = await selectBackend('auto', { log: (l) => lines.push(l) });
      assert.equal(info.name, 'wasm');
      assert.match(lines.join('\n'), /backend wasm .*skipped .*blas: WEAKCORR_OPENBLAS=\/nonexistent\/libopenblas\.so\.0 does not exist/);
      await assert.rejects(selectBackend('blas', quiet), /backend 'blas' could not be loaded: .*does not exist/);
      assert.deepEqual(backendOf('blas').precisionKey(process.env), {});
    } finally {
      if (saved === undefined) delete process.env[LIB_ENV];
      else process.env[LIB_ENV] = saved;
    }
  });

  describe('with OpenBLAS', function () {
    before(function () {
      // CI installs libopenblas0-pthread and sets WEAKCORR_REQUIRE_BLAS=1: a missing library fails there.
      if (!available && process.env.WEAKCORR_REQUIRE_BLAS === '1') throw new Error(`the blas backend is required here but does not load: ${probeOpenblas().reason}`);
      if (!available) this.skip();
    });

    it('matMul equals a float64 reference to float32 tolerance: transposes, batches, broadcast batch', async () => {
      await selectBackend('blas', quiet);
      assert.equal(tf.getBackend(), 'blas');
      // Its own BatchMatMul; every other kernel is wasm's.
      assert.notEqual(tf.getKernel('BatchMatMul', 'blas')?.kernelFunc, tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc);
      assert.equal(tf.getKernel('Add', 'blas')?.kernelFunc, tf.getKernel('Add', 'wasm')?.kernelFunc);
      const key = backendOf('blas').precisionKey(process.env);
      assert.match(String(key.blasCore), /\w/);
      const cases: [number[], number[], boolean, boolean][] = [
        [[1, 7, 5], [1, 5, 3], false, false],
        [[1, 5, 7], [1, 5, 3], true, false],
        [[1, 7, 5], [1, 3, 5], false, true],
        [[1, 5, 7], [1, 3, 5], true, true],
        [[4, 6, 9], [4, 9, 2], false, false],
        [[4, 9, 6], [4, 2, 9], true, true],
        [[1, 6, 9], [3, 9, 4], false, false],
        [[3, 6, 9], [1, 4, 9], false, true],
        [[1, 130, 257], [1, 257, 65], false, false],
        // A vector operand (sgemv): a single column of op(B) or a single row of op(A), every transpose, batched.
        [[1, 9, 6], [1, 6, 1], false, false],
        [[1, 6, 9], [1, 6, 1], true, false],
        [[1, 9, 6], [1, 1, 6], false, true],
        [[1, 6, 9], [1, 1, 6], true, true],
        [[1, 1, 6], [1, 6, 9], false, false],
        [[1, 6, 1], [1, 6, 9], true, false],
        [[1, 1, 6], [1, 9, 6], false, true],
        [[1, 6, 1], [1, 9, 6], true, true],
        [[3, 5, 8], [3, 8, 1], false, false],
        [[3, 1, 8], [1, 5, 8], false, true],
        [[1, 1, 1], [1, 1, 1], false, false],
        [[1, 1600, 1280], [1, 1280, 1], false, false],
      ];
      let seed = 1;
      for (const [as, bs, ta, tb] of cases) {
        const a = testValues(as.reduce((x, y) => x * y), seed++), b = testValues(bs.reduce((x, y) => x * y), seed++);
        const want = matmul64(a, as, b, bs, ta, tb);
        const got = tf.tidy(() => tf.matMul(tf.tensor3d(Float32Array.from(a), as as [number, number, number]), tf.tensor3d(Float32Array.from(b), bs as [number, number, number]), ta, tb).dataSync());
        assertCloseNorm(got, want, 1e-6, `${as} x ${bs} ta=${ta} tb=${tb}`);
      }
      // Rank 2, and the 2-D transposes the model uses.
      const a = testValues(12 * 8, 90), b = testValues(12 * 5, 91);
      const got = tf.tidy(() => tf.matMul(tf.tensor2d(Float32Array.from(a), [12, 8]), tf.tensor2d(Float32Array.from(b), [12, 5]), true, false));
      assert.deepEqual(got.shape, [8, 5]);
      assertCloseNorm(got.dataSync(), matmul64(a, [1, 12, 8], b, [1, 12, 5], true, false), 1e-6, '2-D aT b');
      got.dispose();
    });

    it('a training step (net and linearization) on blas equals wasm within float32 tolerance', async () => {
      const spec: MlpSpec = { dIn: 48, width: 96, depth: 3, dOut: 10, activation: 'erf', parameterization: 'ntk' };
      const host = initHostParams(spec, 7);
      const x = Float32Array.from(testValues(32 * 48, 3));
      const y = Float32Array.from(testValues(32 * 10, 4));
      const run = async (backend: 'wasm' | 'blas'): Promise<{ net: number[]; delta: number[]; loss: number[] }> => {
        await selectBackend(backend, quiet);
        const p0 = hostToParams(host);
        const tr = new PairTrainer(spec, p0, { lr: 0.5 });
        disposeParams(p0);
        const xt = tf.tensor2d(x, [32, 48]), yt = tf.tensor2d(y, [32, 10]);
        const loss: number[] = [];
        for (let s = 0; s < 3; s++) {
          const r = tr.step(xt, yt);
          loss.push(r.lossNet, r.lossLin);
        }
        const flat = async (p: ReturnType<typeof tr.netParams>): Promise<number[]> => (await paramsToHost(p)).flatMap((l) => [...l.W, ...l.b]);
        const out = { net: await flat(tr.netParams()), delta: await flat(tr.linDelta()), loss };
        tr.dispose();
        xt.dispose();
        yt.dispose();
        return out;
      };
      const w = await run('wasm');
      const b = await run('blas');
      assertCloseNorm(b.net, w.net, 1e-5, 'net parameters');
      assertCloseNorm(b.delta, w.delta, 1e-4, 'linearization delta');
      assertCloseNorm(b.loss, w.loss, 1e-5, 'losses');
    });
  });
});
