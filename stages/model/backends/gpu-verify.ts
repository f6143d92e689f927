// Honest `gpu`: tfjs-node-gpu loads and registers its 'tensorflow' backend even where
// libtensorflow finds no usable CUDA (wrong CUDA/cuDNN version), then silently computes on the
// CPU. Its backend reports what it got (`isUsingGpuDevice`, from the native binding's device
// list), so a `gpu` run checks that flag and refuses to run, naming what is missing.
import { CUDA_FIX, describeNvidiaGpu, nvidiaGpus, scanCudaLibs, type LibSearchEnv, type NvidiaGpu } from './cuda-libs.ts';

/** The part of tfjs-node's NodeJSKernelBackend the check reads. */
export interface TfNodeBackendLike {
  isUsingGpuDevice?: unknown;
  isGPUPackage?: unknown;
}

export interface GpuCheckDeps {
  libs?: LibSearchEnv;
  gpus?: () => NvidiaGpu[];
}

export class GpuNotUsedError extends Error {}

/**
 * Throws GpuNotUsedError unless the tfjs-node-gpu backend runs on a GPU device; returns the
 * device's description (model and memory as the driver reports them).
 */
export function verifyTfjsNodeGpu(backend: TfNodeBackendLike, deps: GpuCheckDeps = {}): string {
  const gpus = (deps.gpus ?? nvidiaGpus)();
  if (backend.isUsingGpuDevice === true) {
    return gpus.length ? gpus.map(describeNvidiaGpu).join('; ') : 'CUDA GPU (nvidia-smi unavailable: model unknown)';
  }
  const scan = scanCudaLibs(deps.libs);
  const why = typeof backend.isUsingGpuDevice !== 'boolean'
    ? 'the loaded backend does not report isUsingGpuDevice (not tfjs-node-gpu?)'
    : 'tfjs-node-gpu loaded but TensorFlow registered no GPU device, so it would compute on the CPU';
  const missing = scan.missing.length
    ? `missing CUDA/cuDNN libraries: ${scan.missing.join(', ')} (searched ${scan.searched.join(', ') || 'nothing'})`
    : 'all CUDA 11.2 / cuDNN 8.1 libraries were found; check the driver (nvidia-smi) and TensorFlow\'s log';
  const seen = gpus.length ? `; the driver sees ${gpus.map(describeNvidiaGpu).join('; ')}` : '';
  throw new GpuNotUsedError(`${why}: ${missing}${seen}. Fix: ${CUDA_FIX}`);
}
