// `weakcorr doctor`: for every backend, is its package installed, do its native parts load, is
// a device present, which libraries are found or missing, what adapter is there; which backend
// `auto` picks and why; and the exact fix for each problem. Read-only; never loads tfjs here
// (native parts are tried in short-lived child processes).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AUTO_ORDER, PACKAGE, cudaGpuPresent, packageDir, packageInstalled, packageVersion, type ConcreteBackend } from '../backend-choice.ts';
import { fileURLToPath } from 'node:url';
import { CUDA_FIX, CUDA_LIBS, describeNvidiaGpu, nvidiaGpus, scanCudaLibs, type LibScan, type LibSearchEnv, type NvidiaGpu } from './cuda-libs.ts';
import { describeAdapter, dawnEntry, probeAdapterSync, type AdapterProbe } from './webgpu.ts';

export type Problem = { problem: string; fix: string };

export type BackendReport = {
  name: ConcreteBackend;
  package: string;
  installed: boolean;
  version: string | null;
  /** native parts (tfjs_binding.node, dawn.node, the .wasm binary) load */
  native: { ok: boolean; detail: string };
  /** a device to compute on */
  device: { present: boolean; detail: string };
  libraries?: LibScan;
  adapter?: AdapterProbe;
  /** what `auto` would make of it */
  autoUsable: boolean;
  autoReason: string;
  problems: Problem[];
};

export type DoctorReport = {
  platform: string;
  node: string;
  backends: BackendReport[];
  auto: { backend: ConcreteBackend | null; why: string; skipped: { name: ConcreteBackend; reason: string }[] };
};

export interface DoctorDeps {
  libs?: LibSearchEnv;
  gpus?: () => NvidiaGpu[];
  cudaPresent?: () => { present: boolean; reason: string };
  adapter?: () => AdapterProbe;
}

const VULKAN_FIX = 'install a Vulkan driver: on NVIDIA the proprietary driver\'s Vulkan ICD (libGLX_nvidia.so.0, nvidia_icd.json; in containers ' +
  'NVIDIA_DRIVER_CAPABILITIES must include graphics), on AMD/Intel Mesa >= 24 (Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers), ' +
  'plus libvulkan1; check with `vulkaninfo --summary`';

/** Loads a native file in a child process: a missing shared library shows up here, not as a crash. */
function tryLoad(code: string): { ok: boolean; detail: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) return { ok: true, detail: (r.stdout.trim().split('\n').at(-1) ?? '').trim() || 'loads' };
  const lines = `${r.stderr ?? ''}\n${r.error?.message ?? ''}`.split('\n').map((l) => l.trim()).filter((l) => l && !/artificially reduced/.test(l));
  return { ok: false, detail: lines.find((l) => /Error|cannot open|not found/i.test(l)) ?? lines.at(-1) ?? `exit ${r.status}` };
}

function tfjsNodeBinding(pkg: string): string | undefined {
  const dir = packageDir(pkg);
  if (!dir || !existsSync(join(dir, 'lib'))) return undefined;
  const napi = readdirSync(join(dir, 'lib')).find((d) => d.startsWith('napi-v') && existsSync(join(dir, 'lib', d, 'tfjs_binding.node')));
  return napi && join(dir, 'lib', napi, 'tfjs_binding.node');
}

function installFix(name: ConcreteBackend): string {
  if (name === 'gpu' || name === 'node') {
    return `npm install ${PACKAGE[name]}@4.22.0 on a machine with network access (its install script downloads libtensorflow 2.9.1), ` +
      'then copy node_modules over; or use WEAKCORR_BACKEND=webgpu';
  }
  if (name === 'webgpu') return 'npm install (optional dependencies included: @tensorflow/tfjs-backend-webgpu and webgpu)';
  return `npm ci (${PACKAGE[name]} is a regular dependency)`;
}

function report(name: ConcreteBackend, deps: DoctorDeps): BackendReport {
  const pkg = PACKAGE[name];
  const installed = packageInstalled(pkg);
  const problems: Problem[] = [];
  const r: BackendReport = {
    name, package: pkg, installed, version: packageVersion(pkg) ?? null,
    native: { ok: false, detail: 'not checked' }, device: { present: true, detail: 'the CPU' },
    autoUsable: false, autoReason: '', problems,
  };
  if (!installed) problems.push({ problem: `${pkg} is not installed`, fix: installFix(name) });

  if (name === 'gpu') {
    const cuda = (deps.cudaPresent ?? cudaGpuPresent)();
    const gpus = (deps.gpus ?? nvidiaGpus)();
    r.device = { present: cuda.present, detail: gpus.length ? gpus.map(describeNvidiaGpu).join('; ') : cuda.reason };
    if (!cuda.present) problems.push({ problem: `no NVIDIA GPU: ${cuda.reason}`, fix: 'run on a machine with an NVIDIA GPU and its driver (nvidia-smi must list it)' });
    r.libraries = scanCudaLibs(deps.libs);
    if (r.libraries.missing.length) {
      problems.push({ problem: `missing CUDA 11.2 / cuDNN 8.1 libraries: ${r.libraries.missing.join(', ')} (tfjs-node-gpu would load and compute on the CPU)`, fix: CUDA_FIX });
    }
  }
  if (name === 'gpu' || name === 'node') {
    const binding = installed ? tfjsNodeBinding(pkg) : undefined;
    if (installed && !binding) {
      r.native = { ok: false, detail: 'lib/napi-v*/tfjs_binding.node is missing (the install script could not download libtensorflow)' };
      problems.push({ problem: `${pkg}: ${r.native.detail}`, fix: installFix(name) });
    } else if (binding) {
      r.native = tryLoad(`import { createRequire } from 'node:module'; createRequire(import.meta.url)(${JSON.stringify(binding)}); console.log('tfjs_binding.node loads');`);
      if (!r.native.ok) problems.push({ problem: `${pkg}: tfjs_binding.node does not load: ${r.native.detail}`, fix: `reinstall ${pkg}; its lib/ folder must hold libtensorflow.so.2 and libtensorflow_framework.so.2` });
    }
    if (name === 'gpu' && r.native.ok && r.device.present) {
      // The honest check itself: does TensorFlow register a GPU device?
      const v = tryLoad(`const tf = await import('@tensorflow/tfjs'); await import(${JSON.stringify(pkg)}); await tf.setBackend('tensorflow'); console.log('isUsingGpuDevice=' + tf.backend().isUsingGpuDevice);`);
      if (!/isUsingGpuDevice=true/.test(v.detail)) {
        problems.push({ problem: `TensorFlow registered no GPU device (${v.detail}): it would compute on the CPU`, fix: CUDA_FIX });
        r.device = { present: false, detail: `${r.device.detail}; TensorFlow sees no GPU device` };
      }
    }
  }
  if (name === 'webgpu') {
    const dawn = dawnEntry();
    if (!dawn) problems.push({ problem: "the optional package 'webgpu' (Dawn) is not installed", fix: installFix(name) });
    const a = (deps.adapter ?? probeAdapterSync)();
    r.adapter = a;
    r.native = dawn ? (a.ok || !/failed to start/.test(a.reason ?? '') ? { ok: true, detail: 'dawn.node loads' } : { ok: false, detail: a.reason! }) : { ok: false, detail: 'webgpu not installed' };
    if (dawn && !r.native.ok) problems.push({ problem: `dawn.node does not load: ${r.native.detail}`, fix: 'reinstall the webgpu package; Dawn needs glibc >= 2.31 and libvulkan.so.1 at run time' });
    r.device = { present: a.ok, detail: describeAdapter(a) };
    if (dawn && !a.ok) problems.push({ problem: a.reason!, fix: VULKAN_FIX });
    if (a.ok && a.software) problems.push({ problem: `the only adapter is a software one (${describeAdapter(a)}): auto will not use it`, fix: `${VULKAN_FIX}; or WEAKCORR_BACKEND=webgpu to use the software adapter anyway (CI)` });
  }
  if (name === 'wasm' && installed) {
    // On disk: the package's dist/; in the gpu-pack bundle: beside the bundle.
    const dir = packageDir(pkg);
    const ok = existsSync(dir ? join(dir, 'dist', 'tfjs-backend-wasm-simd.wasm') : fileURLToPath(new URL('tfjs-backend-wasm-simd.wasm', import.meta.url)));
    r.native = { ok, detail: ok ? 'tfjs-backend-wasm-simd.wasm present' : 'dist/tfjs-backend-wasm-simd.wasm missing' };
    if (!ok) problems.push({ problem: r.native.detail, fix: 'npm ci' });
  }
  if (name === 'cpu') r.native = { ok: installed, detail: 'pure JavaScript' };
  return r;
}

/** The full report. Static probes plus child-process loads; never throws for a broken backend. */
export function doctor(deps: DoctorDeps = {}): DoctorReport {
  const backends = AUTO_ORDER.map((name) => report(name, deps));
  const skipped: { name: ConcreteBackend; reason: string }[] = [];
  let chosen: ConcreteBackend | null = null;
  for (const b of backends) {
    // auto's rule (backend-choice.ts): a backend is usable when nothing above is a problem
    // (a software-only adapter counts as one for auto).
    b.autoUsable = b.problems.length === 0;
    b.autoReason = b.autoUsable ? 'usable' : b.problems[0].problem;
    if (chosen) continue;
    if (b.autoUsable) chosen = b.name;
    else skipped.push({ name: b.name, reason: b.autoReason });
  }
  const why = chosen
    ? `${chosen} is the first usable backend in the order ${AUTO_ORDER.join(' -> ')}` + (skipped.length ? ` (skipped ${skipped.map((s) => s.name).join(', ')})` : '')
    : 'no backend is usable';
  return { platform: `${process.platform}-${process.arch}`, node: process.version, backends, auto: { backend: chosen, why, skipped } };
}

export function formatDoctor(r: DoctorReport): string {
  const out: string[] = [`weakcorr doctor (${r.platform}, Node ${r.node})`, ''];
  const mark = (ok: boolean): string => (ok ? 'ok ' : 'NO ');
  for (const b of r.backends) {
    out.push(`${b.name}: ${b.package}${b.version ? ` ${b.version}` : ''}`);
    out.push(`  ${mark(b.installed)} package installed`);
    out.push(`  ${mark(b.native.ok)} native parts: ${b.native.detail}`);
    out.push(`  ${mark(b.device.present)} device: ${b.device.detail}`);
    if (b.libraries) {
      out.push(`  ${mark(b.libraries.missing.length === 0)} CUDA/cuDNN libraries: found ${Object.keys(b.libraries.found).join(', ') || 'none'}; missing ${b.libraries.missing.join(', ') || 'none'} (of ${CUDA_LIBS.length})`);
    }
    if (b.adapter?.ok) {
      out.push(`      adapter: ${describeAdapter(b.adapter)}; maxStorageBufferBindingSize ${((b.adapter.maxStorageBufferBindingSize ?? 0) / 1024 ** 2).toFixed(0)} MiB`);
    }
    for (const p of b.problems) out.push(`  problem: ${p.problem}`, `      fix: ${p.fix}`);
    out.push('');
  }
  out.push(`auto picks: ${r.auto.backend ?? 'nothing'}: ${r.auto.why}`);
  for (const s of r.auto.skipped) out.push(`  skipped ${s.name}: ${s.reason}`);
  return out.join('\n');
}
