// `blas`: the wasm backend with OpenBLAS's cblas_sgemm as its matmul (BatchMatMul), called through
// koffi on the operands' views of the wasm heap. Its own tfjs backend name ('blas': a fresh
// BackendWasm instance with wasm's kernels copied and BatchMatMul replaced), so `wasm` stays plain
// XNNPACK and the two never share cache entries (their summation orders differ). Needs koffi
// (optional dependency, prebuilt) and libopenblas.so.0 (Debian: libopenblas0-pthread); `auto`
// skips it to `wasm` when either is missing. openblas.ts picks the core and one thread.
import { CPU_RESOURCES, cpuLabel } from './common.ts';
import { FUSED_KERNELS_VERSION } from '../fused-kernel-names.ts';
import { CORE_ENV, KOFFI, LIB_ENV, THREADS_ENV, applyOpenblasEnv, probeOpenblas, type OpenblasInfo } from './openblas.ts';
import { packageInstalled, packageVersion } from './packages.ts';
import type { JsonObject } from '../../../pipeline/engine/types.ts';
import type { Backend, TfModule } from './types.ts';
import { wasm } from './wasm.ts';

const PKG = '@tensorflow/tfjs-backend-wasm';
const TF_NAME = 'blas';
const FIX = `apt-get install libopenblas0-pthread (or set ${LIB_ENV} to a libopenblas.so), and npm ci (${KOFFI} is an optional dependency with prebuilt binaries; no install script needed)`;

/** "OpenBLAS 0.3.21" from openblas_get_config(). */
function versionOf(info: OpenblasInfo): string | undefined {
  return /OpenBLAS\s+([\d.]+)/.exec(info.config ?? '')?.[1];
}

function describe(info: OpenblasInfo): string {
  const threads = info.env[THREADS_ENV] ?? '?';
  const src = info.coreSource === 'selected' ? ` (selected; OpenBLAS detected ${info.detected})` : info.coreSource === 'user' ? ` (${CORE_ENV} set by you)` : ' (detected)';
  return `OpenBLAS ${versionOf(info) ?? '?'} core ${info.core}${src}, ${threads} thread${threads === '1' ? '' : 's'}`;
}

let registered = false;

/** Registers tfjs backend 'blas': wasm's kernels, BatchMatMul on cblas_sgemm, and the fused kernels. Once per process. (The core and
 * threads are in the device string, so selectBackend's one line names them.) */
async function registerBlas(tf: TfModule, info: OpenblasInfo): Promise<void> {
  if (registered) return;
  await import(PKG);
  const wasmFactory = tf.findBackendFactory('wasm');
  if (!wasmFactory) throw new Error(`${PKG} loaded but registered no 'wasm' backend (duplicate tfjs-core copy?)`);
  // Before the library loads: the core (never over a value the user set) and one thread.
  applyOpenblasEnv(info);
  const koffi = ((await import(KOFFI)) as { default: typeof import('koffi') }).default;
  const lib = koffi.load(info.path!);
  const sgemm = lib.func('void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)');
  const sgemv = lib.func('void cblas_sgemv(int order, int trans, int M, int N, float alpha, const float *A, int lda, const float *x, int incx, float beta, float *y, int incy)');
  const setThreads = lib.func('void openblas_set_num_threads(int n)');
  const corename = lib.func('const char *openblas_get_corename()');
  setThreads(Number(process.env[THREADS_ENV] ?? 1) || 1);
  const core = String(corename());
  if (core !== info.core) throw new Error(`OpenBLAS loaded with core ${core}, expected ${info.core} (was ${LIB_ENV} or OpenBLAS already loaded in this process?)`);
  const { blasMatMulKernel } = await import('./blas-kernel.ts');
  const { blasFusedKernels } = await import('./blas-fused.ts');
  for (const k of tf.getKernelsForBackend('wasm')) {
    if (k.kernelName !== tf.BatchMatMul) tf.registerKernel({ ...k, backendName: TF_NAME });
  }
  tf.registerKernel(blasMatMulKernel(tf, { sgemm, sgemv }, TF_NAME));
  // The model's fused layer ops (layer-ops.ts), on the same heap and the same sgemm.
  for (const k of blasFusedKernels({ sgemm, sgemv }, TF_NAME)) tf.registerKernel(k);
  tf.registerBackend(TF_NAME, () => wasmFactory(), 1);
  registered = true;
}

export const blas: Backend<'blas'> = {
  name: 'blas',
  tfName: TF_NAME,
  package: PKG,
  onGpu: false,
  resources: CPU_RESOURCES,
  installFix: FIX,
  // cblas_sgemm's CblasTrans reads the operand where it lies.
  matMulTransposesInPlace: true,
  probe(_named, probes) {
    if (!packageInstalled(PKG)) return { ok: false, reason: `${PKG} is not installed` };
    const info = probeOpenblas(process.env, undefined, probes);
    return info.ok ? { ok: true, reason: `${describe(info)}, ${info.path}` } : { ok: false, reason: info.reason };
  },
  async register(ctx) {
    const info = probeOpenblas();
    if (!info.ok) throw new Error(info.reason);
    await registerBlas(ctx.tf, info);
    return {};
  },
  verify(ctx) {
    // The kernel really computes: a 2 x 2 product (one with CblasTrans) read back.
    const { tf } = ctx;
    const got = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 7], [6, 8]]), false, true).dataSync());
    if (Array.from(got).join() !== '19,22,43,50') throw new Error(`the blas matmul computed ${Array.from(got).join()} for [[1,2],[3,4]] x [[5,6],[7,8]]`);
    // And its matrix-vector path (sgemv): [[1,2],[3,4]] x [5,6]^T.
    const gv = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync());
    if (Array.from(gv).join() !== '17,39') throw new Error(`the blas matrix-vector product computed ${Array.from(gv).join()} for [[1,2],[3,4]] x [5,6]`);
    return { device: `${cpuLabel('blas')}, ${describe(probeOpenblas())}` };
  },
  memoryLimit: () => wasm.memoryLimit(),
  deviceKey: () => ({}),
  deviceLabel: () => cpuLabel('blas'),
  // The core's kernels fix the summation order: OpenBLAS's version and core enter the key, and the
  // fused kernels' arithmetic (their version) too.
  precisionKey(env, probes): JsonObject {
    const info = probeOpenblas(env, undefined, probes);
    return info.ok ? { openblas: versionOf(info) ?? 'unknown', blasCore: info.core ?? 'unknown', blasKernels: FUSED_KERNELS_VERSION } : {};
  },
  doctor(r, deps) {
    const env = deps.env ?? process.env;
    if (!packageInstalled(KOFFI)) {
      r.problems.push({ problem: `${KOFFI} is not installed (the FFI the blas backend calls OpenBLAS through)`, fix: `npm ci, or npm install --no-save ${KOFFI} (prebuilt for linux-x64 and others)` });
    }
    const info = probeOpenblas(env);
    r.native = info.ok
      ? { ok: true, detail: `${info.path} loads through ${KOFFI} ${packageVersion(KOFFI) ?? ''}`.trim() }
      : { ok: false, detail: info.reason };
    if (!info.ok && packageInstalled(KOFFI)) r.problems.push({ problem: `OpenBLAS: ${info.reason}`, fix: FIX });
    if (info.ok) r.precision = `float32; ${describe(info)}${info.coreSource === 'selected' ? ` (workers get ${CORE_ENV}=${info.env[CORE_ENV]})` : ''}`;
  },
};
