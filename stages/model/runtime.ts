// The parts of the environment that can change a model stage's numbers, and backend setup in
// the worker that runs it. The parent resolves `auto` without loading tfjs and puts the result
// in the cache key; the worker then loads exactly that backend (a mismatch fails loudly).
import type { JsonObject } from '../../pipeline/engine/types.ts';
// backend-choice.ts has no tfjs import; backend.ts (which loads tfjs) is imported lazily.
import { describeBackendChoice } from './backend-choice.ts';
import type { BackendInfo } from './backend.ts';

export function modelRuntime(): JsonObject {
  const c = describeBackendChoice();
  return { backend: c.backend, tfjsVersion: c.tfjsVersion, backendVersion: c.backendVersion };
}

let ready: Promise<BackendInfo> | undefined;

export function ensureBackend(log: (line: string) => void): Promise<BackendInfo> {
  ready ??= import('./backend.ts').then(({ selectBackend }) => selectBackend(describeBackendChoice().backend, { log }));
  return ready;
}
