// The parts of the environment that can change a model stage's numbers, and backend setup in
// the worker that runs it. The parent resolves `auto` without loading tfjs and puts the result
// in the cache key; the worker then loads exactly that backend (a mismatch fails loudly).
import type { JsonObject } from '../../pipeline/engine/types.ts';
// backend-choice.ts has no tfjs import; backend.ts (which loads tfjs) is imported lazily.
import { describeBackendChoice, type BackendChoice } from './backend-choice.ts';
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

export function modelRuntime(): JsonObject {
  const c = resolved();
  return { backend: c.backend, tfjsVersion: c.tfjsVersion, backendVersion: c.backendVersion, ...deviceKey(c) };
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
