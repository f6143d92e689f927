// Pieces several backend objects share: labels, task resources, memory limits, child-process loads.
import { spawnSync } from 'node:child_process';
import { totalmem } from 'node:os';
import type { StageResources } from '../../../pipeline/engine/types.ts';
import type { Device, MemoryLimit } from './types.ts';

/** The label of a backend that computes on the CPU through tfjs (our backend name). */
export const cpuLabel = (name: string): string => `CPU (tfjs ${name})`;

export const CPU_RESOURCES: StageResources = { cpus: 1, memMB: 4_000 };
export const GPU_RESOURCES: StageResources = { gpus: 1, cpus: 2, memMB: 16_000 };

export function systemMemory(): MemoryLimit {
  return { bytes: totalmem(), why: `system memory (${(totalmem() / 1024 ** 3).toFixed(1)} GiB)` };
}

export function noKnownLimit(tfName: string): MemoryLimit {
  return { bytes: Number.POSITIVE_INFINITY, why: `no known limit for backend '${tfName}'` };
}

/** A loaded GPU device: its memory (CUDA, or WebGPU on an NVIDIA adapter: from nvidia-smi); a software adapter: system memory. */
export function gpuMemory(dev: Device): MemoryLimit {
  if (dev.memoryBytes) return { bytes: dev.memoryBytes, why: `GPU memory (${(dev.memoryBytes / 1024 ** 3).toFixed(1)} GiB) of ${dev.device}` };
  if (dev.adapter?.software) return { bytes: totalmem(), why: `system memory of the software adapter (${(totalmem() / 1024 ** 3).toFixed(1)} GiB)` };
  return { bytes: Number.POSITIVE_INFINITY, why: `memory of ${dev.device} not reported` };
}

/** Loads a native file in a child process: a missing shared library shows up here, not as a crash. */
export function tryLoad(code: string, env: NodeJS.ProcessEnv = process.env): { ok: boolean; detail: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000, env });
  if (r.status === 0) return { ok: true, detail: (r.stdout.trim().split('\n').at(-1) ?? '').trim() || 'loads' };
  const lines = `${r.stderr ?? ''}\n${r.error?.message ?? ''}`.split('\n').map((l) => l.trim()).filter((l) => l && !/artificially reduced/.test(l));
  return { ok: false, detail: lines.find((l) => /Error|cannot open|not found/i.test(l)) ?? lines.at(-1) ?? `exit ${r.status}` };
}
