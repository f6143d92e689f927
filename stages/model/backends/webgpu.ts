// `webgpu`: @tensorflow/tfjs-backend-webgpu on Dawn (dawn.ts), any Vulkan driver. Computes in
// plain float32 (WGSL f32 arithmetic in its shaders; no TF32 or other reduced-precision matmul).
// `auto` takes it on a hardware adapter only; asked for by name it accepts a software one (CI).
import { GPU_RESOURCES, cpuLabel, gpuMemory, noKnownLimit } from './common.ts';
import { nvidiaGpus } from './cuda-libs.ts';
import { dawnEntry, describeAdapter, probeAdapter, probeAdapterSync } from './dawn.ts';
import { packageVersion } from './packages.ts';
import type { JsonObject } from '../../../pipeline/engine/types.ts';
import type { Backend } from './types.ts';

// The Dawn setup is imported from here by tests and tools: one place for everything webgpu.
export * from './dawn.ts';

const PKG = '@tensorflow/tfjs-backend-webgpu';
const INSTALL_FIX = 'npm install (optional dependencies included: @tensorflow/tfjs-backend-webgpu and webgpu)';

export const VULKAN_FIX = 'install a Vulkan driver: on NVIDIA the proprietary driver\'s Vulkan ICD (libGLX_nvidia.so.0, nvidia_icd.json; in containers ' +
  'NVIDIA_DRIVER_CAPABILITIES must include graphics), on AMD/Intel Mesa >= 24 (Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers), ' +
  'plus libvulkan1; check with `vulkaninfo --summary`';

export const WEBGPU_PRECISION = 'plain float32 (WGSL f32 arithmetic in the shaders; no TF32)';

const softwareOnly = (a: Parameters<typeof describeAdapter>[0]): string =>
  `only a software adapter: ${describeAdapter(a)} (auto uses webgpu on a hardware GPU only; WEAKCORR_BACKEND=webgpu forces it)`;

export const webgpu: Backend<'webgpu'> = {
  name: 'webgpu',
  tfName: 'webgpu',
  package: PKG,
  onGpu: true,
  resources: GPU_RESOURCES,
  installFix: INSTALL_FIX,

  probe(named, probes) {
    const adapter = probeAdapterSync(probes);
    if (!adapter.ok) return { ok: false, reason: adapter.reason!, adapter };
    if (adapter.software && !named) return { ok: false, reason: softwareOnly(adapter), adapter };
    return { ok: true, reason: `${PKG} ${packageVersion(PKG) ?? '?'} on ${describeAdapter(adapter)}`, adapter };
  },

  async register(ctx) {
    const adapter = await probeAdapter();
    if (!adapter.ok) throw new Error(adapter.reason);
    if (adapter.software && !ctx.named) throw new Error(softwareOnly(adapter));
    await import('@tensorflow/tfjs-backend-webgpu');
    if (ctx.tf.findBackendFactory('webgpu') == null) throw new Error("@tensorflow/tfjs-backend-webgpu loaded but registered no 'webgpu' backend (navigator.gpu missing at import?)");
    // Small tensors would otherwise be computed on the CPU, silently.
    ctx.tf.env().set('WEBGPU_CPU_FORWARD', false);
    return { adapter };
  },

  verify(ctx, { adapter }) {
    // The tfjs backend requests the adapter's own limits for its device; read what it got.
    const dev = (ctx.tf.backend() as unknown as { device?: { limits?: Record<string, number> } }).device;
    const binding = dev?.limits?.maxStorageBufferBindingSize ?? adapter!.maxStorageBufferBindingSize;
    const gpus = adapter!.vendor === 'nvidia' ? nvidiaGpus() : [];
    return {
      device: `WebGPU ${describeAdapter(adapter!)}`, adapter,
      ...(gpus[0] ? { memoryBytes: gpus[0].memoryMiB * 1024 ** 2 } : {}),
      ...(binding ? { maxTensorBytes: binding, maxTensorWhy: "the WebGPU device's maxStorageBufferBindingSize" } : {}),
    };
  },

  memoryLimit: (dev) => (dev ? gpuMemory(dev) : noKnownLimit('webgpu')),

  deviceKey(c): JsonObject {
    if (!c.adapter?.ok) return {};
    return { adapter: { vendor: c.adapter.vendor ?? '', architecture: c.adapter.architecture ?? '', device: c.adapter.device ?? '' } };
  },
  deviceLabel(k, c) {
    const a = k.adapter as { vendor: string; architecture: string; device: string } | undefined;
    if (!a) return cpuLabel('webgpu');
    return `WebGPU ${a.vendor} ${a.architecture}${a.device ? ` (${a.device})` : ''}${c.adapter?.software ? ', software adapter' : ''}`;
  },
  declaredDevice: {
    parse(declared) {
      const [vendor = '', architecture = '', ...device] = declared.split('/');
      return { adapter: { vendor, architecture, device: device.join('/') } };
    },
    example: "'nvidia/ampere/NVIDIA A100-SXM4-80GB' (vendor/architecture/device of the adapter)",
  },
  precisionKey: () => ({}),
  // The key names an adapter; the worker must have got that very adapter.
  assertSameDevice(planned, loaded) {
    if (loaded.adapter?.vendor !== planned.adapter?.vendor || loaded.adapter?.architecture !== planned.adapter?.architecture) {
      throw new Error(`webgpu adapter changed between planning (${planned.adapter?.vendor} ${planned.adapter?.architecture}) and running (${loaded.adapter?.vendor} ${loaded.adapter?.architecture})`);
    }
  },

  doctor(r, deps) {
    const dawn = dawnEntry();
    if (!dawn) r.problems.push({ problem: "the optional package 'webgpu' (Dawn) is not installed", fix: INSTALL_FIX });
    const a = (deps.adapter ?? probeAdapterSync)();
    r.adapter = a;
    r.native = dawn ? (a.ok || !/failed to start/.test(a.reason ?? '') ? { ok: true, detail: 'dawn.node loads' } : { ok: false, detail: a.reason! }) : { ok: false, detail: 'webgpu not installed' };
    if (dawn && !r.native.ok) r.problems.push({ problem: `dawn.node does not load: ${r.native.detail}`, fix: 'reinstall the webgpu package; Dawn needs glibc >= 2.31 and libvulkan.so.1 at run time' });
    r.device = { present: a.ok, detail: describeAdapter(a) };
    if (dawn && !a.ok) r.problems.push({ problem: a.reason!, fix: VULKAN_FIX });
    if (a.ok && a.software) r.problems.push({ problem: `the only adapter is a software one (${describeAdapter(a)}): auto will not use it`, fix: `${VULKAN_FIX}; or WEAKCORR_BACKEND=webgpu to use the software adapter anyway (CI)` });
    r.precision = WEBGPU_PRECISION;
  },
};
