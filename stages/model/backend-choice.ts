// Static backend resolution: which tfjs backend a process would get, WITHOUT loading tfjs, so
// an engine can put {backend, tfjsVersion} into a cache key from a parent process. Keep this
// module free of any @tensorflow import. What each backend checks is in its object (backends/).
import { AUTO_ORDER, KINDS, backendOf, type BackendKind, type ConcreteBackend } from './backends/index.ts';
import { packageVersion } from './backends/packages.ts';
import type { AdapterProbe } from './backends/dawn.ts';
import type { ProbeMemo } from '../../pipeline/engine/types.ts';

export type { BackendKind, ConcreteBackend } from './backends/index.ts';
export { AUTO_ORDER, KINDS } from './backends/index.ts';
export { nativeBindingPresent, packageDir, packageInstalled, packageVersion } from './backends/packages.ts';
export { cudaGpuPresent } from './backends/cuda-libs.ts';

// Type aliases (not interfaces) so these are assignable to a JSON object type for cache keys.
export type BackendAttempt = {
  name: ConcreteBackend;
  ok: boolean;
  reason: string;
};

export type BackendChoice = {
  /** The backend a child calling selectBackend(kind) would get (absent changes on disk). */
  backend: ConcreteBackend;
  /** Installed @tensorflow/tfjs version (same string selectBackend reports as tf.version.tfjs). */
  tfjsVersion: string;
  /** npm package providing the backend, and its installed version. */
  backendPackage: string;
  backendVersion: string;
  tried: BackendAttempt[];
  /** webgpu only: the adapter it runs on (vendor and architecture enter cache keys) */
  adapter?: AdapterProbe;
};

export function parseBackendKind(value: string | undefined): BackendKind {
  const v = (value ?? 'auto').trim().toLowerCase() || 'auto';
  if (!(KINDS as readonly string[]).includes(v)) {
    throw new Error(`unknown backend '${value}': expected one of ${KINDS.join(', ')} (env WEAKCORR_BACKEND)`);
  }
  return v as BackendKind;
}

/**
 * Static (no tfjs load) feasibility check of one backend. `named`: the user asked for this
 * backend by name (webgpu then accepts a software adapter; `auto` never picks one). `probes`:
 * a read command's store memo, which may answer the slow probes (absent: probe afresh).
 */
export function probe(name: ConcreteBackend, named = false, probes?: ProbeMemo): BackendAttempt & { adapter?: AdapterProbe } {
  return { name, ...backendOf(name).probe(named, probes) };
}

/**
 * Which backend selectBackend(kind) would pick, without loading tfjs (cheap; for cache keys in a
 * parent process). Static checks only: a package that resolves but fails at load time is only
 * caught by selectBackend. So a parent should pass the resolved `backend` (not 'auto') to its
 * children: a mismatch then fails loudly instead of computing on another backend. `probes`: see probe.
 */
export function describeBackendChoice(kind: BackendKind = parseBackendKind(process.env.WEAKCORR_BACKEND), probes?: ProbeMemo): BackendChoice {
  kind = parseBackendKind(kind);
  const tfjsVersion = packageVersion('@tensorflow/tfjs') ?? 'unknown';
  const order = kind === 'auto' ? AUTO_ORDER : [kind];
  const tried: BackendAttempt[] = [];
  for (const name of order) {
    const { adapter, ...p } = probe(name, kind !== 'auto', probes);
    tried.push(p);
    if (p.ok) {
      const pkg = backendOf(name).package;
      return {
        backend: name, tfjsVersion, backendPackage: pkg, backendVersion: packageVersion(pkg) ?? 'unknown', tried,
        ...(adapter ? { adapter } : {}),
      };
    }
  }
  throw new Error(`backend '${kind}' is not available: ${tried.map((t) => `${t.name}: ${t.reason}`).join('; ')}`);
}
