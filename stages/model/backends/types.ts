// What a backend is: one object per backend (gpu.ts, webgpu.ts, node.ts, blas.ts, wasm.ts, cpu.ts), listed
// in index.ts. Everything that differs between backends lives in its object: how it is probed
// without tfjs (cache keys), how it loads and is verified, what device it names, its limits, its
// part of the cache key, the resources its tasks ask for and its doctor checks. Callers ask the
// object and never compare backend names. No runtime tfjs import here (type-only).
import type * as Tf from '@tensorflow/tfjs';
import type { JsonObject, ProbeMemo, StageResources } from '../../../pipeline/engine/types.ts';
import type { GpuCheckDeps } from './gpu-verify.ts';
import type { LibScan, LibSearchEnv, NvidiaGpu } from './cuda-libs.ts';
import type { AdapterProbe } from './dawn.ts';

export type TfModule = typeof Tf;

/** Seams for tests of the gpu verification: a stand-in for tfjs-node-gpu and its environment. */
export interface GpuSeams {
  module?: string;
  present?: () => { present: boolean; reason: string };
  deps?: GpuCheckDeps;
}

export interface LoadContext {
  tf: TfModule;
  /** the user asked for this backend by name (webgpu then accepts a software adapter) */
  named: boolean;
  gpu?: GpuSeams;
  log: (line: string) => void;
}

/** The device a loaded backend computes on, and its limits (mlp.ts, taylor.ts read them). */
export interface Device {
  /** the device that computes: GPU model and memory, the WebGPU adapter, or the CPU */
  device: string;
  /** device memory in bytes, when known (CUDA: from nvidia-smi) */
  memoryBytes?: number;
  /** largest single tensor in bytes (WebGPU: maxStorageBufferBindingSize), when limited */
  maxTensorBytes?: number;
  maxTensorWhy?: string;
  /** webgpu: the adapter (vendor, architecture, limits) */
  adapter?: AdapterProbe;
}

export type MemoryLimit = { bytes: number; why: string };

/** What a static probe (no tfjs load) found. */
export type Probe = { ok: boolean; reason: string; adapter?: AdapterProbe };

/** The planned backend, as far as a backend object reads it (BackendChoice). */
export type Planned = { adapter?: AdapterProbe };

export type Problem = { problem: string; fix: string };

/** A backend's part of `weakcorr doctor`'s report. */
export type BackendFindings = {
  package: string;
  installed: boolean;
  version: string | null;
  /** native parts (tfjs_binding.node, dawn.node, the .wasm binary) load */
  native: { ok: boolean; detail: string };
  /** a device to compute on */
  device: { present: boolean; detail: string };
  libraries?: LibScan;
  adapter?: AdapterProbe;
  /** the arithmetic it computes in (float32; TF32 on or off), where that needs saying */
  precision?: string;
  problems: Problem[];
  /** facts worth knowing that do not stop the backend (Hopper's JIT start), with their advice */
  notes?: string[];
};

export interface DoctorDeps {
  libs?: LibSearchEnv;
  gpus?: () => NvidiaGpu[];
  cudaPresent?: () => { present: boolean; reason: string };
  adapter?: () => AdapterProbe;
  env?: NodeJS.ProcessEnv;
}

export interface Backend<N extends string = string> {
  /** our name (WEAKCORR_BACKEND) */
  readonly name: N;
  /** tfjs's own backend name ('tensorflow' for node and gpu) */
  readonly tfName: string;
  /** npm package providing it */
  readonly package: string;
  /** computes on a GPU: its train tasks ask the scheduler for one, `make gpu-check` measures it */
  readonly onGpu: boolean;
  /** what a train task on this backend asks the batch scheduler for */
  readonly resources: StageResources;
  /** the fix when its package is missing */
  readonly installFix: string;
  /** the largest single typed array its tensors can live in (plain-JS tensors), when that limits */
  readonly maxArrayBytes?: number;
  /** its matmul reads transposed operands in place at full speed (backprop passes transpose flags
   * instead of copying with tf.transpose; XNNPACK on wasm is slower with the flags) */
  readonly matMulTransposesInPlace?: boolean;

  /** Static feasibility, without loading tfjs (planning parent, cache keys); `probes`: a read command's store memo for slow probes. */
  probe(named: boolean, probes?: ProbeMemo): Probe;
  /** Imports and registers the tfjs backend (before tf.setBackend); returns what verify needs. */
  register(ctx: LoadContext): Promise<{ adapter?: AdapterProbe }>;
  /** After tf.setBackend succeeded: verifies the device really computes and describes it. */
  verify(ctx: LoadContext, registered: { adapter?: AdapterProbe }): Device;
  /** Bytes of tensors the device can hold (dev: the loaded device, absent when not loaded). */
  memoryLimit(dev?: Device): MemoryLimit;

  /** The device part of the cache key (from the planned choice). */
  deviceKey(c: Planned): JsonObject;
  /** One line naming the device, derived from the key only. */
  deviceLabel(key: JsonObject, c: Planned): string;
  /** The device part of the key from $WEAKCORR_DEVICE for batch nodes; absent: the key has no device part. */
  declaredDevice?: { parse(declared: string): JsonObject; example: string };
  /** Settings that change its arithmetic, for the cache key (gpu: TF32); `probes` as for probe. */
  precisionKey(env: NodeJS.ProcessEnv, probes?: ProbeMemo): JsonObject;
  /** Throws when the device loaded in a worker is not the one its key names. */
  assertSameDevice?(planned: Planned, loaded: { adapter?: AdapterProbe }): void;

  /** Its doctor checks; adds findings and problems (with fixes) to r. */
  doctor(r: BackendFindings, deps: DoctorDeps): void;
}
