// The parts of the environment that can change a model stage's numbers, and backend setup in
// the worker that runs it. The parent resolves `auto` without loading tfjs and puts the result
// in the cache key; the worker then loads exactly that backend (a mismatch fails loudly).
import type { JsonObject, RuntimeTarget } from '../../pipeline/engine/types.ts';
// backend-choice.ts has no tfjs import; backend.ts (which loads tfjs) is imported lazily.
import { describeBackendChoice, PACKAGE, packageVersion, parseBackendKind, type BackendChoice, type ConcreteBackend } from './backend-choice.ts';
import { nvidiaGpus } from './backends/cuda-libs.ts';
import type { BackendInfo } from './backend.ts';

/**
 * The device part of the key: a GPU model (gpu) or the WebGPU adapter's vendor, architecture
 * and device (webgpu), so that a software adapter and a real GPU, or two GPU models, never
 * share cache entries. CPU backends: none (the backend name says it).
 */
export function deviceKey(c: BackendChoice): JsonObject {
  if (c.backend === 'gpu') {
    const g = nvidiaGpus()[0];
    return { device: g ? `${g.name}, ${(g.memoryMiB / 1024).toFixed(1)} GiB` : 'unknown CUDA GPU' };
  }
  if (c.backend === 'webgpu' && c.adapter?.ok) {
    return { adapter: { vendor: c.adapter.vendor ?? '', architecture: c.adapter.architecture ?? '', device: c.adapter.device ?? '' } };
  }
  return {};
}

/** One line for records and reports, derived from the key only (artifacts stay deterministic). */
export function deviceLabel(c: BackendChoice): string {
  const k = deviceKey(c);
  if (typeof k.device === 'string') return `CUDA ${k.device}`;
  const a = k.adapter as { vendor: string; architecture: string; device: string } | undefined;
  if (a) return `WebGPU ${a.vendor} ${a.architecture}${a.device ? ` (${a.device})` : ''}${c.adapter?.software ? ', software adapter' : ''}`;
  return c.backend === 'node' ? 'CPU (libtensorflow)' : `CPU (tfjs ${c.backend})`;
}

let choice: BackendChoice | undefined;
const resolved = (): BackendChoice => (choice ??= describeBackendChoice());

export function modelRuntime(where: RuntimeTarget = 'local'): JsonObject {
  if (where === 'remote') return requestedRuntime();
  const c = resolved();
  return { backend: c.backend, tfjsVersion: c.tfjsVersion, backendVersion: c.backendVersion, ...deviceKey(c) };
}

/**
 * The runtime batch jobs will have, from what is requested ($WEAKCORR_BACKEND, $WEAKCORR_DEVICE)
 * rather than from this host, which may have no GPU; no tfjs is loaded. Package versions are read
 * here: the nodes run this very checkout. Each job checks on its node that it gets exactly this
 * runtime. `auto` (nothing requested) resolves on this host as a local run does.
 */
export function requestedRuntime(env: NodeJS.ProcessEnv = process.env): JsonObject {
  const kind = parseBackendKind(env.WEAKCORR_BACKEND);
  if (kind === 'auto') return modelRuntime('local');
  const backendVersion = packageVersion(PACKAGE[kind]);
  if (!backendVersion) throw new Error(`WEAKCORR_BACKEND=${kind}: ${PACKAGE[kind]} is not installed (the compute nodes run this checkout's node_modules)`);
  return { backend: kind, tfjsVersion: packageVersion('@tensorflow/tfjs') ?? 'unknown', backendVersion, ...requestedDevice(kind, env) };
}

/** The device part of the key for nodes of a requested GPU backend: $WEAKCORR_DEVICE, else this host's own. */
function requestedDevice(kind: ConcreteBackend, env: NodeJS.ProcessEnv): JsonObject {
  if (kind !== 'gpu' && kind !== 'webgpu') return {};
  const declared = env.WEAKCORR_DEVICE?.trim();
  if (declared && kind === 'gpu') return { device: declared };
  if (declared) {
    const [vendor = '', architecture = '', ...device] = declared.split('/');
    return { adapter: { vendor, architecture, device: device.join('/') } };
  }
  try {
    return deviceKey(describeBackendChoice(kind));
  } catch (e) {
    const example = kind === 'gpu' ? "'NVIDIA A100-SXM4-80GB, 79.2 GiB' (nvidia-smi's name and memory)" : "'nvidia/ampere/NVIDIA A100-SXM4-80GB' (vendor/architecture/device of the adapter)";
    throw new Error(`WEAKCORR_BACKEND=${kind} for batch jobs: this host cannot name the compute nodes' device, which is part of every model task's key (${(e as Error).message}); set WEAKCORR_DEVICE to it, e.g. ${example}. A job whose node has another device fails and names the one it has`);
  }
}

let ready: Promise<BackendInfo & { deviceLabel: string }> | undefined;

export function ensureBackend(log: (line: string) => void): Promise<BackendInfo & { deviceLabel: string }> {
  ready ??= import('./backend.ts').then(async ({ selectBackend }) => {
    const c = resolved();
    const info = await selectBackend(c.backend, { log });
    // The key names an adapter; the worker must have got that very adapter.
    if (c.backend === 'webgpu' && (info.adapter?.vendor !== c.adapter?.vendor || info.adapter?.architecture !== c.adapter?.architecture)) {
      throw new Error(`webgpu adapter changed between planning (${c.adapter?.vendor} ${c.adapter?.architecture}) and running (${info.adapter?.vendor} ${info.adapter?.architecture})`);
    }
    return { ...info, deviceLabel: deviceLabel(c) };
  });
  return ready;
}
