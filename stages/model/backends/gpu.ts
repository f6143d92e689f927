// `gpu`: tfjs-node-gpu, CUDA through libtensorflow 2.9.1. Verified after loading (gpu-verify.ts),
// since it computes on the CPU where CUDA 11.2 / cuDNN 8.1 are missing. TF32 is switched off
// before TensorFlow loads: on Ampere and newer GPUs TensorFlow otherwise rounds matmul inputs to
// TF32's 10-bit mantissa, far coarser than the f - f_lin differences the protocols measure.
import { GPU_RESOURCES, gpuMemory, systemMemory, tryLoad } from './common.ts';
import { CUDA_FIX, cudaGpuPresent, describeNvidiaGpu, hopperJitNote, isHopper, nvidiaGpus, scanCudaLibs } from './cuda-libs.ts';
import { verifyTfjsNodeGpu, type TfNodeBackendLike } from './gpu-verify.ts';
import { packageVersion } from './packages.ts';
import { doctorTfjsNode, probeTfjsNode, registerTfjsNode, tfjsNodeInstallFix } from './tfjs-node.ts';
import type { Backend } from './types.ts';

const PKG = '@tensorflow/tfjs-node-gpu';

/** The variable NVIDIA's libraries (cuBLAS, cuDNN) read: '0' forbids TF32 whatever TensorFlow asks. */
export const TF32_ENV = 'NVIDIA_TF32_OVERRIDE';
export const TF32_WHY = 'TF32 rounds matmul inputs to a 10-bit mantissa on Ampere and newer GPUs, which swamps f − f_lin';

/**
 * TF32 as a gpu run will have it: off when NVIDIA_TF32_OVERRIDE is unset (weakcorr sets it to 0
 * before TensorFlow loads) or 0; allowed when the user set another value, which weakcorr keeps.
 */
export function tf32State(env: NodeJS.ProcessEnv = process.env): { tf32: boolean; value?: string } {
  const v = env[TF32_ENV];
  if (v === undefined || v === '') return { tf32: false };
  return { tf32: v !== '0', value: v };
}

/** Sets NVIDIA_TF32_OVERRIDE=0 unless the user set it; must run before tfjs-node-gpu is imported. */
export function disableTf32(env: NodeJS.ProcessEnv = process.env): { tf32: boolean; value?: string } {
  if (env[TF32_ENV] === undefined || env[TF32_ENV] === '') env[TF32_ENV] = '0';
  return tf32State(env);
}

/** One line for `weakcorr doctor` and the load log. */
export function tf32Text(env: NodeJS.ProcessEnv = process.env): string {
  const t = tf32State(env);
  return t.tf32
    ? `float32 with TF32 ALLOWED: ${TF32_ENV}=${t.value} is set in the environment and kept (weakcorr would set 0, since ${TF32_WHY}); the cache key records tf32: true`
    : `float32, TF32 off: weakcorr sets ${TF32_ENV}=0 before TensorFlow loads, since ${TF32_WHY}`;
}

export const gpu: Backend<'gpu'> = {
  name: 'gpu',
  tfName: 'tensorflow',
  package: PKG,
  onGpu: true,
  resources: GPU_RESOURCES,
  installFix: tfjsNodeInstallFix(PKG),

  probe() {
    const dev = cudaGpuPresent();
    if (!dev.present) return { ok: false, reason: `no CUDA GPU: ${dev.reason}` };
    const missing = probeTfjsNode(PKG);
    if (missing) return missing;
    // libtensorflow would load without these and silently compute on the CPU.
    const libs = scanCudaLibs();
    if (libs.missing.length) return { ok: false, reason: `missing CUDA/cuDNN libraries ${libs.missing.join(', ')}; fix: ${CUDA_FIX}` };
    return { ok: true, reason: `${PKG} ${packageVersion(PKG) ?? '?'} resolvable` };
  },

  async register(ctx) {
    const dev = (ctx.gpu?.present ?? cudaGpuPresent)();
    if (!dev.present) throw new Error(`no CUDA GPU: ${dev.reason}`);
    // Before libtensorflow (and cuBLAS) load: they read the variable once.
    const t = disableTf32();
    if (t.tf32) ctx.log(`[weakcorr] gpu: ${tf32Text()}`);
    await registerTfjsNode(ctx.tf, PKG, ctx.gpu?.module || PKG);
    return {};
  },

  verify(ctx) {
    // tfjs-node-gpu without a usable CUDA registers fine and computes on the CPU: refuse that.
    const device = verifyTfjsNodeGpu(ctx.tf.backend() as unknown as TfNodeBackendLike, ctx.gpu?.deps);
    const mem = (ctx.gpu?.deps?.gpus ?? nvidiaGpus)()[0]?.memoryMiB;
    return { device, ...(mem ? { memoryBytes: mem * 1024 ** 2 } : {}) };
  },

  memoryLimit: (dev) => (dev ? gpuMemory(dev) : systemMemory()),

  deviceKey() {
    const g = nvidiaGpus()[0];
    return { device: g ? `${g.name}, ${(g.memoryMiB / 1024).toFixed(1)} GiB` : 'unknown CUDA GPU' };
  },
  deviceLabel: (k) => `CUDA ${String(k.device)}`,
  declaredDevice: {
    parse: (declared) => ({ device: declared }),
    example: "'NVIDIA A100-SXM4-80GB, 79.2 GiB' (nvidia-smi's name and memory)",
  },
  precisionKey: (env) => ({ tf32: tf32State(env).tf32 }),

  doctor(r, deps) {
    const cuda = (deps.cudaPresent ?? cudaGpuPresent)();
    const gpus = (deps.gpus ?? nvidiaGpus)();
    r.device = { present: cuda.present, detail: gpus.length ? gpus.map(describeNvidiaGpu).join('; ') : cuda.reason };
    if (!cuda.present) r.problems.push({ problem: `no NVIDIA GPU: ${cuda.reason}`, fix: 'run on a machine with an NVIDIA GPU and its driver (nvidia-smi must list it)' });
    r.libraries = scanCudaLibs(deps.libs);
    if (r.libraries.missing.length) {
      r.problems.push({ problem: `missing CUDA 11.2 / cuDNN 8.1 libraries: ${r.libraries.missing.join(', ')} (tfjs-node-gpu would load and compute on the CPU)`, fix: CUDA_FIX });
    }
    doctorTfjsNode(r, tfjsNodeInstallFix(PKG));
    const env = deps.env ?? process.env;
    if (gpus.some((g) => isHopper(g.name))) {
      const jit = hopperJitNote(env);
      r.notes = [...(r.notes ?? []), jit.fix ? `${jit.note}; ${jit.fix}` : jit.note];
    }
    if (r.native.ok && r.device.present) {
      // The honest check itself: does TensorFlow register a GPU device? (With TF32 as a run has it.)
      const v = tryLoad(`const tf = await import('@tensorflow/tfjs'); await import(${JSON.stringify(PKG)}); await tf.setBackend('tensorflow'); console.log('isUsingGpuDevice=' + tf.backend().isUsingGpuDevice);`,
        { ...env, [TF32_ENV]: env[TF32_ENV] || '0' });
      if (!/isUsingGpuDevice=true/.test(v.detail)) {
        r.problems.push({ problem: `TensorFlow registered no GPU device (${v.detail}): it would compute on the CPU`, fix: CUDA_FIX });
        r.device = { present: false, detail: `${r.device.detail}; TensorFlow sees no GPU device` };
      }
    }
    r.precision = tf32Text(env);
  },
};
