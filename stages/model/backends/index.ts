// The backends, in `auto`'s order: the first that loads wins. A new backend is one file here
// (a Backend object, types.ts) and one entry in this list; nothing outside this folder names it.
import { blas } from './blas.ts';
import { cpu } from './cpu.ts';
import { gpu } from './gpu.ts';
import { node } from './node.ts';
import type { Backend } from './types.ts';
import { wasm } from './wasm.ts';
import { webgpu } from './webgpu.ts';

export const BACKENDS = [gpu, webgpu, node, blas, wasm, cpu] as const;

export type ConcreteBackend = (typeof BACKENDS)[number]['name'];
export type BackendKind = 'auto' | ConcreteBackend;

export const AUTO_ORDER: readonly ConcreteBackend[] = BACKENDS.map((b) => b.name);
export const KINDS: readonly BackendKind[] = ['auto', ...AUTO_ORDER];

export function isBackendName(name: unknown): name is ConcreteBackend {
  return typeof name === 'string' && (AUTO_ORDER as readonly string[]).includes(name);
}

export function backendOf(name: ConcreteBackend): Backend<ConcreteBackend> {
  const b = BACKENDS.find((x) => x.name === name);
  if (!b) throw new Error(`unknown backend '${name}': expected one of ${AUTO_ORDER.join(', ')}`);
  return b;
}

/** The first backend (in auto's order) that tfjs knows by this name ('tensorflow': gpu, then node). */
export function backendOfTf(tfName: string): Backend<ConcreteBackend> | undefined {
  return BACKENDS.find((b) => b.tfName === tfName);
}

/** "gpu, webgpu, node, blas, wasm or cpu" */
export function listBackends(): string {
  return `${AUTO_ORDER.slice(0, -1).join(', ')} or ${AUTO_ORDER.at(-1)}`;
}

export type { Backend } from './types.ts';
