// Backend selection for the model library. tfjs-node / tfjs-node-gpu are optional and often
// absent (their install script downloads libtensorflow), so `auto` walks a fallback chain,
// while a backend asked for by name must load or throw: results must never silently come
// from a different backend than the one a cache key claims.
import * as tf from '@tensorflow/tfjs';
import {
  AUTO_ORDER, PACKAGE, TF_NAME, cudaGpuPresent, parseBackendKind,
  type BackendAttempt, type BackendKind, type ConcreteBackend,
} from './backend-choice.ts';
import { verifyTfjsNodeGpu, type GpuCheckDeps, type TfNodeBackendLike } from './backends/gpu-verify.ts';
import { nvidiaGpus } from './backends/cuda-libs.ts';
import { describeAdapter, installNavigatorGpu, probeAdapter, type AdapterProbe } from './backends/webgpu.ts';

export { tf };
export {
  describeBackendChoice, cudaGpuPresent, parseBackendKind,
  type BackendAttempt, type BackendChoice, type BackendKind, type ConcreteBackend,
} from './backend-choice.ts';

export interface BackendInfo {
  /** Which of our backends is active. */
  name: ConcreteBackend;
  /** tfjs's own backend name ('tensorflow' for node and gpu, 'wasm', 'cpu'). */
  tfBackend: string;
  tfjsVersion: string;
  /** the device that computes: GPU model and memory, the WebGPU adapter, or the CPU */
  device: string;
  /** webgpu: the adapter (vendor, architecture, limits) */
  adapter?: AdapterProbe;
  tried: BackendAttempt[];
}

/** Limits of the active device that the memory checks use (mlp.ts, taylor.ts). */
export interface DeviceLimits {
  backend: ConcreteBackend;
  device: string;
  /** device memory in bytes, when known (CUDA: from nvidia-smi) */
  memoryBytes?: number;
  /** largest single tensor in bytes (WebGPU: maxStorageBufferBindingSize), when limited */
  maxTensorBytes?: number;
  maxTensorWhy?: string;
  adapter?: AdapterProbe;
}

let active: DeviceLimits | undefined;

/** Limits of the backend the last selectBackend activated (undefined before the first). */
export function activeDeviceLimits(): DeviceLimits | undefined {
  return active && tf.getBackend() === TF_NAME[active.backend] ? active : undefined;
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

export interface SelectOptions {
  /** Where the one-line choice summary goes; default stderr. Pass () => {} to silence. */
  log?: (line: string) => void;
  /** Seams for tests of the gpu verification: a stand-in for tfjs-node-gpu and its environment. */
  gpu?: { module?: string; present?: () => { present: boolean; reason: string }; deps?: GpuCheckDeps };
}

async function load(name: ConcreteBackend, named: boolean, opts: SelectOptions): Promise<DeviceLimits & { adapter?: AdapterProbe }> {
  if (name === 'gpu') {
    const gpu = (opts.gpu?.present ?? cudaGpuPresent)();
    if (!gpu.present) throw new Error(`no CUDA GPU: ${gpu.reason}`);
  }
  let adapter: AdapterProbe | undefined;
  if (name === 'gpu' || name === 'node') {
    // Importing registers the 'tensorflow' backend with the shared tfjs-core instance.
    await import((name === 'gpu' && opts.gpu?.module) || PACKAGE[name]);
    if (tf.findBackendFactory('tensorflow') == null) throw new Error(`${PACKAGE[name]} loaded but registered no 'tensorflow' backend (duplicate tfjs-core copy?)`);
  } else if (name === 'webgpu') {
    adapter = await probeAdapter();
    if (!adapter.ok) throw new Error(adapter.reason);
    if (adapter.software && !named) throw new Error(`only a software adapter: ${describeAdapter(adapter)} (auto uses webgpu on a hardware GPU only; WEAKCORR_BACKEND=webgpu forces it)`);
    await import('@tensorflow/tfjs-backend-webgpu');
    if (tf.findBackendFactory('webgpu') == null) throw new Error("@tensorflow/tfjs-backend-webgpu loaded but registered no 'webgpu' backend (navigator.gpu missing at import?)");
    // Small tensors would otherwise be computed on the CPU, silently.
    tf.env().set('WEBGPU_CPU_FORWARD', false);
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
  }
  // setBackend reports init failures as `false` (with a console warning), not as a throw.
  const ok = await tf.setBackend(TF_NAME[name]);
  if (!ok) throw new Error(`tf.setBackend('${TF_NAME[name]}') failed to initialize`);
  await tf.ready();
  if (tf.getBackend() !== TF_NAME[name]) throw new Error(`active backend is '${tf.getBackend()}', expected '${TF_NAME[name]}'`);
  if (name === 'gpu') {
    // tfjs-node-gpu without a usable CUDA registers fine and computes on the CPU: refuse that.
    const device = verifyTfjsNodeGpu(tf.backend() as unknown as TfNodeBackendLike, opts.gpu?.deps);
    const mem = (opts.gpu?.deps?.gpus ?? nvidiaGpus)()[0]?.memoryMiB;
    return { backend: name, device, ...(mem ? { memoryBytes: mem * 1024 ** 2 } : {}) };
  }
  if (name === 'webgpu') {
    // The tfjs backend requests the adapter's own limits for its device; read what it got.
    const dev = (tf.backend() as unknown as { device?: { limits?: Record<string, number> } }).device;
    const binding = dev?.limits?.maxStorageBufferBindingSize ?? adapter!.maxStorageBufferBindingSize;
    const gpus = adapter!.vendor === 'nvidia' ? nvidiaGpus() : [];
    return {
      backend: name, device: `WebGPU ${describeAdapter(adapter!)}`, adapter,
      ...(gpus[0] ? { memoryBytes: gpus[0].memoryMiB * 1024 ** 2 } : {}),
      ...(binding ? { maxTensorBytes: binding, maxTensorWhy: "the WebGPU device's maxStorageBufferBindingSize" } : {}),
    };
  }
  return { backend: name, device: name === 'node' ? 'CPU (libtensorflow)' : `CPU (tfjs ${name})` };
}

/**
 * Load and activate a tfjs backend. 'auto' tries gpu (only with a CUDA GPU), node, wasm, cpu
 * in that order; a named backend that cannot load throws an Error naming it and the cause.
 */
export async function selectBackend(
  kind: BackendKind = parseBackendKind(process.env.WEAKCORR_BACKEND),
  opts: SelectOptions = {},
): Promise<BackendInfo> {
  kind = parseBackendKind(kind);
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const order = kind === 'auto' ? AUTO_ORDER : [kind];
  const tried: BackendAttempt[] = [];
  for (const name of order) {
    try {
      const limits = await load(name, kind !== 'auto', opts);
      const { adapter } = limits;
      active = limits;
      tried.push({ name, ok: true, reason: `loaded ${PACKAGE[name]}` });
      const info: BackendInfo = { name, tfBackend: tf.getBackend(), tfjsVersion: tf.version.tfjs, device: limits.device, ...(adapter ? { adapter } : {}), tried };
      log(`[weakcorr] backend ${name} on ${info.device} (tfjs ${info.tfjsVersion})` +
        (tried.length > 1 ? `; skipped ${tried.slice(0, -1).map((t) => `${t.name}: ${t.reason}`).join('; ')}` : ''));
      return info;
    } catch (e) {
      tried.push({ name, ok: false, reason: errMsg(e) });
    }
  }
  const detail = tried.map((t) => `${t.name} (${PACKAGE[t.name]}): ${t.reason}`).join('; ');
  throw new Error(kind === 'auto' ? `no tfjs backend could be loaded: ${detail}` : `backend '${kind}' could not be loaded: ${detail}`);
}
