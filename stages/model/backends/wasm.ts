// `wasm`: @tensorflow/tfjs-backend-wasm, the CPU with SIMD, one thread; a 32-bit heap.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CPU_RESOURCES, cpuLabel } from './common.ts';
import { packageDir, packageInstalled, packageVersion } from './packages.ts';
import type { Backend } from './types.ts';

const PKG = '@tensorflow/tfjs-backend-wasm';

export const wasm: Backend<'wasm'> = {
  name: 'wasm',
  tfName: 'wasm',
  package: PKG,
  onGpu: false,
  resources: CPU_RESOURCES,
  installFix: `npm ci (${PKG} is a regular dependency)`,
  probe: () => (packageInstalled(PKG) ? { ok: true, reason: `${PKG} ${packageVersion(PKG) ?? '?'} resolvable` } : { ok: false, reason: `${PKG} is not installed` }),
  async register() {
    await import('@tensorflow/tfjs-backend-wasm');
    return {};
  },
  verify: () => ({ device: cpuLabel('wasm') }),
  memoryLimit: () => ({ bytes: 4 * 1024 ** 3, why: 'the wasm backend has a 32-bit heap (4 GiB max)' }),
  deviceKey: () => ({}),
  deviceLabel: () => cpuLabel('wasm'),
  precisionKey: () => ({}),
  doctor(r) {
    if (!r.installed) return;
    // On disk: the package's dist/; in the gpu-pack bundle: beside the bundle.
    const dir = packageDir(PKG);
    const ok = existsSync(dir ? join(dir, 'dist', 'tfjs-backend-wasm-simd.wasm') : fileURLToPath(new URL('tfjs-backend-wasm-simd.wasm', import.meta.url)));
    r.native = { ok, detail: ok ? 'tfjs-backend-wasm-simd.wasm present' : 'dist/tfjs-backend-wasm-simd.wasm missing' };
    if (!ok) r.problems.push({ problem: r.native.detail, fix: 'npm ci' });
  },
};
