// WebGPU through Dawn (npm `webgpu`, an optional dependency): runs on any Vulkan driver, with
// no CUDA version pinning. This module sets Dawn up for tfjs and describes the adapter; it has no
// tfjs import, so a parent process can probe the adapter (in a child process) for cache keys.
// The webgpu backend object (webgpu.ts) is built on it and re-exports it.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export interface AdapterProbe {
  ok: boolean;
  /** why there is no usable adapter (ok = false) */
  reason?: string;
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  /** a CPU implementation (lavapipe, SwiftShader): fine for CI, never picked by `auto` */
  software?: boolean;
  maxStorageBufferBindingSize?: number;
  maxBufferSize?: number;
}

const require = createRequire(import.meta.url);

/** Path of Dawn's JS entry, or undefined when the optional `webgpu` package is not installed. */
export function dawnEntry(): string | undefined {
  try {
    return require.resolve('webgpu');
  } catch {
    return undefined;
  }
}

/** Dawn instance toggles, e.g. WEAKCORR_DAWN_FLAGS=backend=vulkan (comma separated). */
export function dawnFlags(): string[] {
  return (process.env.WEAKCORR_DAWN_FLAGS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

export function isSoftwareAdapter(i: AdapterInfoLike): boolean {
  return i.isFallbackAdapter === true || i.architecture === 'software' ||
    /llvmpipe|lavapipe|swiftshader|software rasterizer/i.test(`${i.device ?? ''} ${i.description ?? ''}`);
}

/** One line naming the adapter, e.g. "nvidia ampere (NVIDIA A100-SXM4-80GB)". */
export function describeAdapter(a: AdapterProbe): string {
  if (!a.ok) return `no adapter (${a.reason})`;
  return `${a.vendor || '?'} ${a.architecture || '?'} (${a.description || a.device || 'unnamed'})${a.software ? ', software' : ''}`;
}

let installed: Promise<void> | undefined;

/**
 * Makes `navigator.gpu` a Dawn instance. Must run BEFORE @tensorflow/tfjs-backend-webgpu is
 * imported: that module registers its backend only if navigator.gpu exists at import time.
 */
export function installNavigatorGpu(): Promise<void> {
  installed ??= (async () => {
    const entry = dawnEntry();
    if (!entry) throw new Error("the optional package 'webgpu' (Dawn) is not installed: run npm install (optional dependencies included)");
    const { create, globals } = (await import(pathToFileURL(entry).href)) as { create: (flags: string[]) => unknown; globals: object };
    Object.assign(globalThis, globals);
    const gpu = create(dawnFlags()) as GpuLike;
    // One adapter object per process, shared by our probe and tfjs's backend factory: adapters
    // that become garbage while a device works were seen to abort the process once (Dawn on lavapipe).
    const request = gpu.requestAdapter.bind(gpu);
    const adapters = new Map<string, ReturnType<GpuLike['requestAdapter']>>();
    gpu.requestAdapter = (o?: object) => {
      const k = JSON.stringify(o ?? {});
      if (!adapters.has(k)) adapters.set(k, request(o));
      return adapters.get(k)!;
    };
    const nav = (globalThis as { navigator?: object }).navigator;
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  })();
  return installed;
}

interface GpuLike {
  requestAdapter(o?: object): Promise<{ info?: AdapterInfoLike; limits: Record<string, number> } | null>;
}

let probed: Promise<AdapterProbe> | undefined;

/**
 * Probes the adapter tfjs would get (high-performance preference), in this process; once per
 * process (each probe creates a Dawn adapter object).
 */
export function probeAdapter(): Promise<AdapterProbe> {
  probed ??= probeOnce();
  return probed;
}

async function probeOnce(): Promise<AdapterProbe> {
  try {
    await installNavigatorGpu();
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const gpu = (globalThis as unknown as { navigator: { gpu: GpuLike } }).navigator.gpu;
  const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!a) {
    return { ok: false, reason: 'Dawn found no WebGPU adapter: no Vulkan driver (libvulkan1 plus a vendor ICD such as the NVIDIA driver or Mesa >= 24) is installed or usable' };
  }
  const i = a.info ?? {};
  return {
    ok: true, vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '',
    software: isSoftwareAdapter(i),
    maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize, maxBufferSize: a.limits.maxBufferSize,
  };
}

let cached: AdapterProbe | undefined;

/**
 * The same probe in a short-lived child process, synchronously: the planning parent gets the
 * adapter for its cache keys without loading Dawn (or tfjs) itself. Cached per process.
 */
export function probeAdapterSync(): AdapterProbe {
  if (cached) return cached;
  const entry = dawnEntry();
  if (!entry) return (cached = { ok: false, reason: "the optional package 'webgpu' (Dawn) is not installed" });
  const code = `
    const { create, globals } = await import(${JSON.stringify(pathToFileURL(entry).href)});
    Object.assign(globalThis, globals);
    const a = await create(${JSON.stringify(dawnFlags())}).requestAdapter({ powerPreference: 'high-performance' });
    const i = a ? a.info : undefined;
    const out = a ? { found: true, vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description,
      isFallbackAdapter: i.isFallbackAdapter, maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize, maxBufferSize: a.limits.maxBufferSize } : { found: false };
    process.stdout.write('\\nWEAKCORR_ADAPTER ' + JSON.stringify(out) + '\\n');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('WEAKCORR_ADAPTER '));
  if (!line) {
    const err = (r.error?.message ?? r.stderr ?? '').trim().split('\n').filter((l) => !/artificially reduced/.test(l)).at(-1);
    return (cached = { ok: false, reason: `Dawn failed to start (exit ${r.status ?? r.signal}): ${err || 'no output'}` });
  }
  const o = JSON.parse(line.slice('WEAKCORR_ADAPTER '.length)) as AdapterInfoLike & { found: boolean; maxStorageBufferBindingSize?: number; maxBufferSize?: number };
  if (!o.found) {
    return (cached = { ok: false, reason: 'Dawn found no WebGPU adapter: no Vulkan driver (libvulkan1 plus a vendor ICD such as the NVIDIA driver or Mesa >= 24) is installed or usable' });
  }
  return (cached = {
    ok: true, vendor: o.vendor ?? '', architecture: o.architecture ?? '', device: o.device ?? '', description: o.description ?? '',
    software: isSoftwareAdapter(o), maxStorageBufferBindingSize: o.maxStorageBufferBindingSize, maxBufferSize: o.maxBufferSize,
  });
}
