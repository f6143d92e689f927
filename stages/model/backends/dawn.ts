// WebGPU through Dawn (npm `webgpu`, an optional dependency): runs on any Vulkan driver, with
// no CUDA version pinning. This module sets Dawn up for tfjs and describes the adapter; it has no
// tfjs import, so a parent process can probe the adapter (in a child process) for cache keys.
// The webgpu backend object (webgpu.ts) is built on it and re-exports it.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Json, JsonObject, ProbeMemo } from '../../../pipeline/engine/types.ts';
import { cpuIdentity, envMatching, fileSignature, fileText, folderNames, folderSignature, nodeIdentity, remembered } from './host-facts.ts';
import { packageVersion } from './packages.ts';

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
 * adapter for its cache keys without loading Dawn (or tfjs) itself. Cached per process; with
 * `probes` (a read command's store memo) the answer filed under adapterFacts() stands in for it.
 */
export function probeAdapterSync(probes?: ProbeMemo): AdapterProbe {
  return remembered(probes, 'webgpu-adapter', adapterFacts, probeAdapterLive, isAdapterProbe);
}

const TRIPLET: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', ppc64: 'powerpc64le-linux-gnu', riscv64: 'riscv64-linux-gnu' };

/** Where the Vulkan loader looks for driver (ICD) and layer manifests. */
function vulkanManifestDirs(env: NodeJS.ProcessEnv): string[] {
  const data = (env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':').filter(Boolean);
  const config = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean);
  const home = env.HOME || homedir();
  const roots = [...new Set([...config, '/etc', ...data, '/usr/local/share', '/usr/share', `${home}/.local/share`, `${home}/.config`].map((r) => `${r}/vulkan`))];
  return roots.flatMap((r) => ['icd.d', 'implicit_layer.d', 'explicit_layer.d'].map((d) => `${r}/${d}`));
}

/** The driver library a manifest names, resolved the way the loader would (a bare name: the library folders). */
function manifestLibrary(manifest: string): string[] {
  const lib = (/"library_path"\s*:\s*"([^"]+)"/.exec(fileText(manifest) ?? '') ?? [])[1];
  if (!lib) return [];
  if (isAbsolute(lib)) return [lib];
  if (lib.includes('/')) return [join(dirname(manifest), lib)];
  const t = TRIPLET[process.arch] ?? `${process.arch}-linux-gnu`;
  return [`/usr/lib/${t}/${lib}`, `/usr/lib64/${lib}`, `/usr/local/lib/${lib}`, `/usr/lib/${lib}`];
}

/**
 * Everything the adapter Dawn finds depends on: Dawn itself and the Node.js that loads it, the
 * Vulkan loader, the driver manifests and the libraries they name (a Mesa or NVIDIA upgrade),
 * the GPUs the kernel shows (/sys/class/drm, /dev/nvidia*, the NVIDIA driver's version), the
 * CPU (a software adapter names its vector width), and the environment the loader and drivers read.
 */
export function adapterFacts(env: NodeJS.ProcessEnv = process.env): Json {
  const entry = dawnEntry();
  const t = TRIPLET[process.arch] ?? `${process.arch}-linux-gnu`;
  const manifests: JsonObject = {};
  const drivers: JsonObject = {};
  for (const dir of vulkanManifestDirs(env)) {
    const sig = folderSignature(dir);
    if (sig === null) continue;
    manifests[dir] = sig;
    for (const name of Object.keys(sig as JsonObject)) for (const lib of manifestLibrary(`${dir}/${name}`)) drivers[lib] = fileSignature(lib);
  }
  const cards: JsonObject = {};
  for (const card of (folderNames('/sys/class/drm') as string[] | null) ?? []) {
    if (!/^(card|renderD)\d+$/.test(card)) continue;
    cards[card] = ['vendor', 'device', 'subsystem_device'].map((f) => fileText(`/sys/class/drm/${card}/device/${f}`)?.trim() ?? null);
  }
  return {
    dawn: entry ? { entry, version: packageVersion('webgpu') ?? null, native: fileSignature(join(dirname(entry), 'dist', `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`, 'dawn.node')) } : null,
    ...nodeIdentity(),
    loader: [`/usr/lib/${t}/libvulkan.so.1`, '/usr/lib64/libvulkan.so.1', '/usr/local/lib/libvulkan.so.1'].map(fileSignature),
    manifests, drivers, cards,
    devices: { dri: folderNames('/dev/dri'), nvidia: ((folderNames('/dev') as string[] | null) ?? []).filter((n) => n.startsWith('nvidia')) },
    nvidiaDriver: fileText('/proc/driver/nvidia/version'),
    cpu: cpuIdentity(),
    env: envMatching(env, /^(WEAKCORR_DAWN_FLAGS|VK_\w+|MESA_\w+|LP_\w+|GALLIUM_\w+|NVIDIA_\w+|__GLX_\w+|CUDA_VISIBLE_DEVICES|DISPLAY|WAYLAND_DISPLAY|LD_LIBRARY_PATH|LD_PRELOAD|XDG_DATA_DIRS|XDG_CONFIG_DIRS|HOME)$/),
  };
}

function isAdapterProbe(v: Json): boolean {
  const o = v as Partial<AdapterProbe> | null;
  return typeof o === 'object' && o !== null && typeof o.ok === 'boolean' && (o.ok ? typeof o.vendor === 'string' && typeof o.architecture === 'string' : typeof o.reason === 'string');
}

function probeAdapterLive(): AdapterProbe {
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
