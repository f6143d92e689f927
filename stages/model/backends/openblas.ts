// OpenBLAS for the `blas` backend, without tfjs: where the library is, whether it and koffi (the
// FFI) load, which core it runs, and the environment a worker loads it with. Debian bookworm's
// OpenBLAS 0.3.21 does not recognise some newer CPUs and falls back to a generic core (Prescott:
// SSE3, about a quarter of the speed); when the CPU supports AVX-512 (AVX2) and the user has not
// set OPENBLAS_CORETYPE we select SkylakeX (Haswell) before the library loads. One BLAS thread
// per process (`--jobs` already uses the cores) unless OPENBLAS_NUM_THREADS says otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Json, ProbeMemo } from '../../../pipeline/engine/types.ts';
import { cpuIdentity, envMatching, fileSignature, nodeIdentity, remembered } from './host-facts.ts';
import { packageDir, packageVersion } from './packages.ts';

export const LIB_ENV = 'WEAKCORR_OPENBLAS';
export const CORE_ENV = 'OPENBLAS_CORETYPE';
export const THREADS_ENV = 'OPENBLAS_NUM_THREADS';
export const SONAME = 'libopenblas.so.0';
export const KOFFI = 'koffi';

const TRIPLET: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', ppc64: 'powerpc64le-linux-gnu', riscv64: 'riscv64-linux-gnu' };

/** Where we look, in order (Debian's alternatives link, its pthread flavour, other layouts). */
export function libraryCandidates(arch: string = process.arch): string[] {
  const t = TRIPLET[arch] ?? `${arch}-linux-gnu`;
  return [`/usr/lib/${t}/${SONAME}`, `/usr/lib/${t}/openblas-pthread/${SONAME}`, `/usr/lib64/${SONAME}`, `/usr/local/lib/${SONAME}`, `/opt/OpenBLAS/lib/${SONAME}`];
}

/** The library file: $WEAKCORR_OPENBLAS when set (only there), else the first candidate on disk. */
export function findLibrary(env: NodeJS.ProcessEnv = process.env): { path?: string; reason: string } {
  const set = env[LIB_ENV]?.trim();
  if (set) return existsSync(set) ? { path: set, reason: `${LIB_ENV}=${set}` } : { reason: `${LIB_ENV}=${set} does not exist` };
  const found = libraryCandidates().find((p) => existsSync(p));
  return found ? { path: found, reason: found } : { reason: `${SONAME} not found (looked in ${libraryCandidates().join(', ')}); apt-get install libopenblas0-pthread, or set ${LIB_ENV}` };
}

// Cores OpenBLAS has AVX2 (or better) kernels for; any other name is generic on an AVX2 CPU.
const AVX512_CORES = ['skylakex', 'cooperlake', 'sapphirerapids'];
const AVX2_CORES = ['haswell', 'zen', ...AVX512_CORES];

export type CpuFeatures = { avx512: boolean; avx2: boolean };

export function cpuFeatures(cpuinfo?: string): CpuFeatures {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      text = '';
    }
  }
  const line = text.split('\n').find((l) => /^flags\s*:/.test(l)) ?? '';
  const flags = new Set(line.replace(/^flags\s*:/, '').trim().split(/\s+/));
  return {
    avx512: ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.has(f)),
    avx2: flags.has('avx2') && flags.has('fma'),
  };
}

/** The core to select when OpenBLAS picked `corename` on a CPU with these features; undefined: keep it. */
export function betterCore(corename: string, cpu: CpuFeatures): string | undefined {
  if (AVX2_CORES.includes(corename.trim().toLowerCase())) return undefined;
  return cpu.avx512 ? 'SkylakeX' : cpu.avx2 ? 'Haswell' : undefined;
}

export type OpenblasInfo = {
  ok: boolean;
  reason: string;
  path?: string;
  /** openblas_get_corename() after our selection */
  core?: string;
  /** what OpenBLAS picked on its own, when we replaced it */
  detected?: string;
  /** where the core came from: OpenBLAS's detection, our selection, or the user's OPENBLAS_CORETYPE */
  coreSource?: 'detected' | 'selected' | 'user';
  config?: string;
  /** the environment a process must load the library with (OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS) */
  env: Record<string, string>;
};

let koffi: { entry: string | undefined } | undefined;

/** koffi's entry, resolved from this project once per process (absent: an optional dependency that did not install). */
export function koffiEntry(): string | undefined {
  koffi ??= { entry: resolveKoffi() };
  return koffi.entry;
}

function resolveKoffi(): string | undefined {
  if (!packageDir(KOFFI)) return undefined;
  try {
    return createRequire(import.meta.url).resolve(KOFFI);
  } catch {
    return undefined;
  }
}

// A child loads koffi and the library and prints the core: a broken library or binding shows up
// here instead of crashing the caller, and the core can be read before a worker loads it.
function childCore(koffi: string, lib: string, env: NodeJS.ProcessEnv): { ok: true; core: string; config: string } | { ok: false; detail: string } {
  const code = `const k = require(${JSON.stringify(koffi)}); const l = k.load(${JSON.stringify(lib)});` +
    `l.func('void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int)');` +
    `console.log(JSON.stringify({ core: l.func('const char *openblas_get_corename()')(), config: l.func('const char *openblas_get_config()')() }));`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 30_000, env });
  if (r.status === 0) {
    try {
      const o = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as { core: string; config: string };
      return { ok: true, core: o.core, config: o.config };
    } catch {
      /* fall through */
    }
  }
  const lines = `${r.stderr ?? ''}\n${r.error?.message ?? ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return { ok: false, detail: lines.find((l) => /Error|cannot|not found|undefined symbol/i.test(l)) ?? lines.at(-1) ?? `exit ${r.status}` };
}

const memo = new Map<string, OpenblasInfo>();

/**
 * Whether the `blas` backend can load here, and with which environment: the library and koffi
 * load (in a child process), the core OpenBLAS detects, and our replacement for a generic one.
 * Memoized per (library setting, OPENBLAS_* values) in this process; with `probes` (a read
 * command's store memo) the answer filed under openblasFacts() stands in for the child processes.
 */
export function probeOpenblas(env: NodeJS.ProcessEnv = process.env, cpuinfo?: string, probes?: ProbeMemo): OpenblasInfo {
  return remembered(probes, 'openblas', () => openblasFacts(env, cpuinfo), () => probeLive(env, cpuinfo), isOpenblasInfo);
}

function probeLive(env: NodeJS.ProcessEnv, cpuinfo?: string): OpenblasInfo {
  const key = JSON.stringify([env[LIB_ENV], env[CORE_ENV], env[THREADS_ENV], cpuinfo]);
  const hit = memo.get(key);
  if (hit) return hit;
  const info = probeUncached(env, cpuinfo);
  memo.set(key, info);
  return info;
}

/**
 * Everything the probe's answer depends on: which file each candidate library is (a new
 * OpenBLAS, an alternatives link moved), koffi, the Node.js that loads it, the CPU OpenBLAS
 * detects its core from, and the environment it reads (OPENBLAS_*, GOTO_*, OMP_*, the loader's).
 */
export function openblasFacts(env: NodeJS.ProcessEnv = process.env, cpuinfo?: string): Json {
  const set = env[LIB_ENV]?.trim();
  const koffi = koffiEntry();
  return {
    libraries: Object.fromEntries((set ? [set] : libraryCandidates()).map((p) => [p, fileSignature(p)])),
    koffi: koffi ? { entry: koffi, version: packageVersion(KOFFI) ?? null } : null,
    ...nodeIdentity(),
    cpu: cpuIdentity(cpuinfo),
    env: envMatching(env, /^(WEAKCORR_OPENBLAS|OPENBLAS_\w+|GOTO_\w+|OMP_\w+|LD_LIBRARY_PATH|LD_PRELOAD)$/),
  };
}

function isOpenblasInfo(v: Json): boolean {
  const o = v as Partial<OpenblasInfo> | null;
  return typeof o === 'object' && o !== null && typeof o.ok === 'boolean' && typeof o.reason === 'string' && typeof o.env === 'object' && o.env !== null &&
    (!o.ok || (typeof o.path === 'string' && typeof o.core === 'string'));
}

function probeUncached(env: NodeJS.ProcessEnv, cpuinfo?: string): OpenblasInfo {
  const threads = env[THREADS_ENV]?.trim() || '1';
  const lib = findLibrary(env);
  if (!lib.path) return { ok: false, reason: lib.reason, env: {} };
  const koffi = koffiEntry();
  if (!koffi) return { ok: false, reason: `${KOFFI} is not installed (optional dependency; npm ci)`, path: lib.path, env: {} };
  const user = env[CORE_ENV]?.trim();
  const base = { ...env, [THREADS_ENV]: threads };
  const first = childCore(koffi, lib.path, base);
  if (!first.ok) return { ok: false, reason: `${lib.path} does not load through koffi: ${first.detail}`, path: lib.path, env: {} };
  const out: Record<string, string> = { [THREADS_ENV]: threads };
  if (user) {
    // Kept (never overridden), but a user-set AVX2 core on an AVX-512 CPU is named: a pair step
    // at width 1024 ran about 1.5x slower on Haswell than on Cooperlake here (bench/train.ts's
    // interleavedSteps, two runs, 2026-12-07).
    const slower = cpuFeatures(cpuinfo).avx512 && !AVX512_CORES.includes(first.core.trim().toLowerCase())
      ? `; this CPU has AVX-512: unset ${CORE_ENV} (OpenBLAS detects its core) or set ${CORE_ENV}=SkylakeX for faster matmuls` : '';
    return { ok: true, reason: `${lib.path}, core ${first.core} (${CORE_ENV}=${user} set by you${slower})`, path: lib.path, core: first.core, coreSource: 'user', config: first.config, env: out };
  }
  const better = betterCore(first.core, cpuFeatures(cpuinfo));
  if (better) {
    const second = childCore(koffi, lib.path, { ...base, [CORE_ENV]: better });
    if (second.ok && second.core.toLowerCase() === better.toLowerCase()) {
      return {
        ok: true, reason: `${lib.path}, core ${second.core} (OpenBLAS detected the generic ${first.core} on a CPU with ${better === 'SkylakeX' ? 'AVX-512' : 'AVX2'}; ${CORE_ENV}=${better} selected)`,
        path: lib.path, core: second.core, detected: first.core, coreSource: 'selected', config: second.config, env: { ...out, [CORE_ENV]: better },
      };
    }
  }
  return { ok: true, reason: `${lib.path}, core ${first.core}`, path: lib.path, core: first.core, coreSource: 'detected', config: first.config, env: out };
}

/** Sets the probe's OPENBLAS_* values in this process's environment (before the library loads here or in children); never a value the user set. */
export function applyOpenblasEnv(info: OpenblasInfo, env: NodeJS.ProcessEnv = process.env): void {
  for (const [k, v] of Object.entries(info.env)) if (!env[k]?.trim()) env[k] = v;
}
