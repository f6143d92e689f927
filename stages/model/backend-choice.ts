// Static backend resolution: which tfjs backend a process would get, WITHOUT loading tfjs, so
// an engine can put {backend, tfjsVersion} into a cache key from a parent process. Keep this
// module free of any @tensorflow import.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { CUDA_FIX, scanCudaLibs } from './backends/cuda-libs.ts';
import { describeAdapter, probeAdapterSync, type AdapterProbe } from './backends/webgpu.ts';

export type BackendKind = 'auto' | 'gpu' | 'webgpu' | 'node' | 'wasm' | 'cpu';
export type ConcreteBackend = Exclude<BackendKind, 'auto'>;

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

export const KINDS: readonly BackendKind[] = ['auto', 'gpu', 'webgpu', 'node', 'wasm', 'cpu'];
export const AUTO_ORDER: readonly ConcreteBackend[] = ['gpu', 'webgpu', 'node', 'wasm', 'cpu'];
export const PACKAGE: Record<ConcreteBackend, string> = {
  gpu: '@tensorflow/tfjs-node-gpu',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};
export const TF_NAME: Record<ConcreteBackend, string> = { gpu: 'tensorflow', webgpu: 'webgpu', node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

const require = createRequire(import.meta.url);

// In the gpu-pack bundle (tools/gpu-pack.ts) the tfjs packages are compiled in rather than on
// disk; the bundler defines their versions here.
declare const __WEAKCORR_BUNDLED__: Record<string, string> | undefined;
const BUNDLED: Record<string, string> = typeof __WEAKCORR_BUNDLED__ === 'object' ? __WEAKCORR_BUNDLED__ : {};

/** True when the package resolves on disk or is compiled into this bundle. */
export function packageInstalled(pkg: string): boolean {
  return pkg in BUNDLED || packageDir(pkg) !== undefined;
}

export function parseBackendKind(value: string | undefined): BackendKind {
  const v = (value ?? 'auto').trim().toLowerCase() || 'auto';
  if (!(KINDS as readonly string[]).includes(v)) {
    throw new Error(`unknown backend '${value}': expected one of ${KINDS.join(', ')} (env WEAKCORR_BACKEND)`);
  }
  return v as BackendKind;
}

/** True if a CUDA GPU seems present: a /dev/nvidia0 node, or `nvidia-smi -L` listing a GPU. */
export function cudaGpuPresent(): { present: boolean; reason: string } {
  if (existsSync('/dev/nvidia0')) return { present: true, reason: '/dev/nvidia0 exists' };
  const r = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000 });
  if (r.error) return { present: false, reason: 'no /dev/nvidia0 and nvidia-smi not runnable' };
  if (r.status === 0 && /GPU \d/.test(r.stdout)) return { present: true, reason: 'nvidia-smi lists a GPU' };
  return { present: false, reason: `no /dev/nvidia0 and nvidia-smi lists no GPU (exit ${r.status})` };
}

export function packageDir(pkg: string): string | undefined {
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    return undefined;
  }
  // Walk up from the entry file to the package root (packages may not export package.json).
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === pkg) return dir;
      } catch {
        /* keep walking */
      }
    }
  }
  return undefined;
}

export function packageVersion(pkg: string): string | undefined {
  if (pkg in BUNDLED) return BUNDLED[pkg];
  const dir = packageDir(pkg);
  if (!dir) return undefined;
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
}

// tfjs-node's native binding lives in lib/napi-v<N>/tfjs_binding.node; its absence = failed install.
export function nativeBindingPresent(pkg: string): boolean {
  const dir = packageDir(pkg);
  if (!dir) return false;
  const lib = join(dir, 'lib');
  if (!existsSync(lib)) return false;
  return readdirSync(lib).some((d) => d.startsWith('napi-v') && existsSync(join(lib, d, 'tfjs_binding.node')));
}

/**
 * Static (no tfjs load) feasibility check of one backend. `named`: the user asked for this
 * backend by name (webgpu then accepts a software adapter; `auto` never picks one).
 */
export function probe(name: ConcreteBackend, named = false): BackendAttempt & { adapter?: AdapterProbe } {
  const pkg = PACKAGE[name];
  if (name === 'gpu') {
    const gpu = cudaGpuPresent();
    if (!gpu.present) return { name, ok: false, reason: `no CUDA GPU: ${gpu.reason}` };
  }
  if (!packageInstalled(pkg)) return { name, ok: false, reason: `${pkg} is not installed` };
  if ((name === 'gpu' || name === 'node') && !nativeBindingPresent(pkg)) {
    return { name, ok: false, reason: `${pkg} is installed but its native binding (lib/napi-v*/tfjs_binding.node) is missing` };
  }
  if (name === 'gpu') {
    // libtensorflow would load without these and silently compute on the CPU.
    const libs = scanCudaLibs();
    if (libs.missing.length) return { name, ok: false, reason: `missing CUDA/cuDNN libraries ${libs.missing.join(', ')}; fix: ${CUDA_FIX}` };
  }
  if (name === 'webgpu') {
    const adapter = probeAdapterSync();
    if (!adapter.ok) return { name, ok: false, reason: adapter.reason!, adapter };
    if (adapter.software && !named) {
      return { name, ok: false, reason: `only a software adapter: ${describeAdapter(adapter)} (auto uses webgpu on a hardware GPU only; WEAKCORR_BACKEND=webgpu forces it)`, adapter };
    }
    return { name, ok: true, reason: `${pkg} ${packageVersion(pkg) ?? '?'} on ${describeAdapter(adapter)}`, adapter };
  }
  return { name, ok: true, reason: `${pkg} ${packageVersion(pkg) ?? '?'} resolvable` };
}

/**
 * Which backend selectBackend(kind) would pick, without loading tfjs (cheap; for cache keys in a
 * parent process). Static checks only: a package that resolves but fails at load time is only
 * caught by selectBackend. So a parent should pass the resolved `backend` (not 'auto') to its
 * children: a mismatch then fails loudly instead of computing on another backend.
 */
export function describeBackendChoice(kind: BackendKind = parseBackendKind(process.env.WEAKCORR_BACKEND)): BackendChoice {
  kind = parseBackendKind(kind);
  const tfjsVersion = packageVersion('@tensorflow/tfjs') ?? 'unknown';
  const order = kind === 'auto' ? AUTO_ORDER : [kind];
  const tried: BackendAttempt[] = [];
  for (const name of order) {
    const { adapter, ...p } = probe(name, kind !== 'auto');
    tried.push(p);
    if (p.ok) {
      return {
        backend: name, tfjsVersion, backendPackage: PACKAGE[name], backendVersion: packageVersion(PACKAGE[name]) ?? 'unknown', tried,
        ...(adapter ? { adapter } : {}),
      };
    }
  }
  throw new Error(`backend '${kind}' is not available: ${tried.map((t) => `${t.name}: ${t.reason}`).join('; ')}`);
}

