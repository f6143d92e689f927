// Backend selection for the model library. tfjs-node / tfjs-node-gpu are optional and often
// absent (their install script downloads libtensorflow), so `auto` walks a fallback chain,
// while a backend asked for by name must load or throw: results must never silently come
// from a different backend than the one a cache key claims. How each backend loads, verifies
// and describes its device is in its object (backends/).
import * as tf from '@tensorflow/tfjs';
import { parseBackendKind, type BackendAttempt, type BackendKind, type ConcreteBackend } from './backend-choice.ts';
import { AUTO_ORDER, backendOf, backendOfTf } from './backends/index.ts';
import { noKnownLimit } from './backends/common.ts';
import type { Device, GpuSeams, LoadContext, MemoryLimit } from './backends/types.ts';
import type { AdapterProbe } from './backends/dawn.ts';

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
export interface DeviceLimits extends Device {
  backend: ConcreteBackend;
}

let active: DeviceLimits | undefined;

/** Limits of the backend the last selectBackend activated (undefined before the first). */
export function activeDeviceLimits(): DeviceLimits | undefined {
  return active && tf.getBackend() === backendOf(active.backend).tfName ? active : undefined;
}

/** The active device when tfjs's backend `tfName` is the active one (undefined otherwise). */
export function deviceLimitsOf(tfName: string = tf.getBackend()): DeviceLimits | undefined {
  const dev = activeDeviceLimits();
  return dev && backendOf(dev.backend).tfName === tfName ? dev : undefined;
}

/**
 * Bytes tfjs's backend `tfName` can hold in tensors, as its backend object says: wasm's 4 GiB
 * heap, a loaded GPU's memory, system memory for CPU backends and software adapters.
 */
export function memoryLimitOf(tfName: string = tf.getBackend()): MemoryLimit {
  const dev = deviceLimitsOf(tfName);
  const b = dev ? backendOf(dev.backend) : backendOfTf(tfName);
  return b ? b.memoryLimit(dev) : noKnownLimit(tfName);
}

/** The largest typed array a tensor of tfjs's backend `tfName` can live in, when that limits it (cpu). */
export function maxArrayBytesOf(tfName: string = tf.getBackend()): number | undefined {
  const dev = deviceLimitsOf(tfName);
  return (dev ? backendOf(dev.backend) : backendOfTf(tfName))?.maxArrayBytes;
}

/** Whether tfjs's backend `tfName` multiplies transposed operands in place (blas), so a transpose copy only costs. */
export function matMulTransposesInPlace(tfName: string = tf.getBackend()): boolean {
  return backendOfTf(tfName)?.matMulTransposesInPlace === true;
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

export interface SelectOptions {
  /** Where the one-line choice summary goes; default stderr. Pass () => {} to silence. */
  log?: (line: string) => void;
  /** Seams for tests of the gpu verification: a stand-in for tfjs-node-gpu and its environment. */
  gpu?: GpuSeams;
}

async function load(name: ConcreteBackend, ctx: LoadContext): Promise<DeviceLimits> {
  const b = backendOf(name);
  const registered = await b.register(ctx);
  // setBackend reports init failures as `false` (with a console warning), not as a throw.
  const ok = await tf.setBackend(b.tfName);
  if (!ok) throw new Error(`tf.setBackend('${b.tfName}') failed to initialize`);
  await tf.ready();
  if (tf.getBackend() !== b.tfName) throw new Error(`active backend is '${tf.getBackend()}', expected '${b.tfName}'`);
  return { backend: name, ...b.verify(ctx, registered) };
}

/**
 * Load and activate a tfjs backend. 'auto' tries gpu (only with a CUDA GPU), webgpu, node, blas, wasm, cpu
 * in that order; a named backend that cannot load throws an Error naming it and the cause.
 */
export async function selectBackend(
  kind: BackendKind = parseBackendKind(process.env.WEAKCORR_BACKEND),
  opts: SelectOptions = {},
): Promise<BackendInfo> {
  kind = parseBackendKind(kind);
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const ctx: LoadContext = { tf, named: kind !== 'auto', gpu: opts.gpu, log };
  const order = kind === 'auto' ? AUTO_ORDER : [kind];
  const tried: BackendAttempt[] = [];
  for (const name of order) {
    try {
      const limits = await load(name, ctx);
      const { adapter } = limits;
      active = limits;
      tried.push({ name, ok: true, reason: `loaded ${backendOf(name).package}` });
      const info: BackendInfo = { name, tfBackend: tf.getBackend(), tfjsVersion: tf.version.tfjs, device: limits.device, ...(adapter ? { adapter } : {}), tried };
      log(`[weakcorr] backend ${name} on ${info.device} (tfjs ${info.tfjsVersion})` +
        (tried.length > 1 ? `; skipped ${tried.slice(0, -1).map((t) => `${t.name}: ${t.reason}`).join('; ')}` : ''));
      return info;
    } catch (e) {
      tried.push({ name, ok: false, reason: errMsg(e) });
    }
  }
  const detail = tried.map((t) => `${t.name} (${backendOf(t.name).package}): ${t.reason}`).join('; ');
  throw new Error(kind === 'auto' ? `no tfjs backend could be loaded: ${detail}` : `backend '${kind}' could not be loaded: ${detail}`);
}
