// Where the dynamic loader would find the CUDA 11.2 / cuDNN 8.1 libraries that tfjs-node-gpu
// 4.22 (libtensorflow 2.9.1) opens at run time. TensorFlow only warns in its log when they are
// missing and then computes on the CPU, so weakcorr looks for them itself to name what is absent.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The sonames libtensorflow 2.9.1's GPU build dlopens (CUDA 11.2 runtime + cuDNN 8.1). */
export const CUDA_LIBS: readonly string[] = [
  'libcudart.so.11.0', 'libcublas.so.11', 'libcublasLt.so.11', 'libcufft.so.10',
  'libcurand.so.10', 'libcusolver.so.11', 'libcusparse.so.11', 'libcudnn.so.8',
];

/** What a user runs to get tfjs-node-gpu onto a real GPU. */
export const CUDA_FIX =
  'install CUDA 11.2 and cuDNN 8.1 (e.g. `conda install -c conda-forge cudatoolkit=11.2 cudnn=8.1`, or NVIDIA\'s ' +
  'cuda-toolkit-11-2 and libcudnn8=8.1.*) and put their lib folders on LD_LIBRARY_PATH; ' +
  'on Hopper (H100, H200) use CUDA 11.8 and cuDNN 8.9 for CUDA 11 instead (NVIDIA\'s cuda-libraries-11-8 and libcudnn8=8.9.*+cuda11.8): ' +
  'the same sonames as 11.2, and the first CUDA 11 libraries with Hopper support; ' +
  'or use WEAKCORR_BACKEND=webgpu, which needs only a Vulkan driver';

/** Hopper (compute capability 9.0) by the name nvidia-smi reports. */
export function isHopper(name: string): boolean {
  return /\b(GH200|H100|H200|H800|H20)\b/i.test(name);
}

/** The JIT cache size we recommend on Hopper: libtensorflow's PTX compiled once, kept (4 GiB). */
export const CUDA_CACHE_BYTES = 4 * 1024 ** 3;

/**
 * libtensorflow 2.9.1 ships sm_35..sm_80 kernels and compute_80 PTX, none for sm_90: on Hopper the
 * driver JIT-compiles the PTX when TensorFlow first starts (many minutes) and caches it in
 * CUDA_CACHE_PATH (default ~/.nv/ComputeCache), whose default cap is too small to keep it (4 GiB is the maximum).
 */
export function hopperJitNote(env: NodeJS.ProcessEnv): { note: string; fix?: string } {
  const max = Number(env.CUDA_CACHE_MAXSIZE ?? 0);
  const where = env.CUDA_CACHE_PATH ? `CUDA_CACHE_PATH=${env.CUDA_CACHE_PATH}` : 'CUDA_CACHE_PATH unset: ~/.nv/ComputeCache';
  const note = 'libtensorflow 2.9 has no sm_90 kernels: on Hopper the driver JIT-compiles its compute_80 PTX at the first start ' +
    `(can take many minutes) and caches the result (${where}; CUDA_CACHE_MAXSIZE ${env.CUDA_CACHE_MAXSIZE || "unset: the driver's default, too small to keep it"})`;
  if (max >= CUDA_CACHE_BYTES) return { note };
  return { note, fix: `export CUDA_CACHE_MAXSIZE=${CUDA_CACHE_BYTES} (and keep the cache folder between runs and jobs: CUDA_CACHE_PATH on a persistent disk) so the compilation happens once` };
}

export interface LibSearchEnv {
  /** LD_LIBRARY_PATH as the loader sees it */
  ldLibraryPath?: string;
  /** output of `ldconfig -p` (the loader cache); undefined = run it */
  ldconfigCache?: string;
  /** CUDA install roots whose lib64 folders are searched too (default /usr/local/cuda*) */
  cudaRoots?: string[];
}

export interface LibScan {
  found: Record<string, string>;
  missing: string[];
  /** the folders searched, in order */
  searched: string[];
}

/** `ldconfig -p`: the dynamic loader's cache of libraries (also read by tools/gpu-pack.ts); '' without ldconfig. */
export function ldconfigCache(): string {
  for (const bin of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      return execFileSync(bin, ['-p'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      /* try the next location */
    }
  }
  return '';
}

function defaultCudaRoots(): string[] {
  try {
    return readdirSync('/usr/local').filter((d) => /^cuda(-[\d.]+)?$/.test(d)).map((d) => join('/usr/local', d));
  } catch {
    return [];
  }
}

/** Looks for every CUDA_LIBS soname on LD_LIBRARY_PATH, in the ldconfig cache and in /usr/local/cuda*\/lib64. */
export function scanCudaLibs(env: LibSearchEnv = {}, libs: readonly string[] = CUDA_LIBS): LibScan {
  const ldPath = env.ldLibraryPath ?? process.env.LD_LIBRARY_PATH ?? '';
  const dirs = [
    ...ldPath.split(':').filter(Boolean),
    ...(env.cudaRoots ?? defaultCudaRoots()).flatMap((r) => [join(r, 'lib64'), join(r, 'targets/x86_64-linux/lib')]),
  ];
  const cache = env.ldconfigCache ?? ldconfigCache();
  const found: Record<string, string> = {};
  for (const lib of libs) {
    const dir = dirs.find((d) => existsSync(join(d, lib)));
    if (dir) {
      found[lib] = join(dir, lib);
      continue;
    }
    // ldconfig -p lines: "\tlibcudart.so.11.0 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudart.so.11.0"
    const m = cache.split('\n').map((l) => l.trim()).find((l) => l.startsWith(lib + ' '));
    if (m) found[lib] = m.split('=>').pop()!.trim();
  }
  return { found, missing: libs.filter((l) => !(l in found)), searched: [...dirs, ...(cache ? ['ldconfig cache'] : [])] };
}

export interface NvidiaGpu {
  name: string;
  memoryMiB: number;
  driver: string;
}

/** GPUs the NVIDIA driver reports (`nvidia-smi --query-gpu`); [] when there is no driver. */
export function nvidiaGpus(): NvidiaGpu[] {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader,nounits'],
      { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim().split('\n').filter(Boolean).map((line) => {
      const [name, mem, driver] = line.split(',').map((s) => s.trim());
      return { name, memoryMiB: Number(mem), driver };
    });
  } catch {
    return [];
  }
}

export function describeNvidiaGpu(g: NvidiaGpu): string {
  return `${g.name}, ${(g.memoryMiB / 1024).toFixed(1)} GiB (driver ${g.driver})`;
}

/** True if a CUDA GPU seems present: a /dev/nvidia0 node, or `nvidia-smi -L` listing a GPU. */
export function cudaGpuPresent(): { present: boolean; reason: string } {
  if (existsSync('/dev/nvidia0')) return { present: true, reason: '/dev/nvidia0 exists' };
  // Looked up on PATH first: a spawn that only finds no program costs every command ~10 ms.
  const onPath = (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, 'nvidia-smi')));
  if (!onPath) return { present: false, reason: 'no /dev/nvidia0 and nvidia-smi not runnable' };
  const r = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000 });
  if (r.error) return { present: false, reason: 'no /dev/nvidia0 and nvidia-smi not runnable' };
  if (r.status === 0 && /GPU \d/.test(r.stdout)) return { present: true, reason: 'nvidia-smi lists a GPU' };
  return { present: false, reason: `no /dev/nvidia0 and nvidia-smi lists no GPU (exit ${r.status})` };
}
