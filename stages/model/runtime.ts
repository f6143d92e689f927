// The parts of the environment that can change a model stage's numbers, and backend setup in
// the worker that runs it. The parent resolves `auto` without loading tfjs and puts the result
// in the cache key; the worker then loads exactly that backend (a mismatch fails loudly).
import type { Json, JsonObject, ProbeMemo, RuntimeContext, RuntimeTarget, StageResources } from '../../pipeline/engine/types.ts';
// backend-choice.ts has no tfjs import; backend.ts (which loads tfjs) is imported lazily.
import { describeBackendChoice, packageVersion, parseBackendKind, type BackendChoice, type ConcreteBackend } from './backend-choice.ts';
import { backendOf, isBackendName } from './backends/index.ts';
import { CPU_RESOURCES } from './backends/common.ts';
import type { BackendInfo } from './backend.ts';

/**
 * The device part of the key: a GPU model (gpu) or the WebGPU adapter's vendor, architecture
 * and device (webgpu), so that a software adapter and a real GPU, or two GPU models, never
 * share cache entries. CPU backends: none (the backend name says it).
 */
export function deviceKey(c: BackendChoice): JsonObject {
  return backendOf(c.backend).deviceKey(c);
}

/** One line for records and reports, derived from the key only (artifacts stay deterministic). */
export function deviceLabel(c: BackendChoice): string {
  return backendOf(c.backend).deviceLabel(deviceKey(c), c);
}

/** The runtime part of a model task's key for a resolved choice: backend, versions, device, precision settings (gpu: TF32). */
export function runtimeOf(c: BackendChoice, env: NodeJS.ProcessEnv = process.env, probes?: ProbeMemo): JsonObject {
  return { backend: c.backend, tfjsVersion: c.tfjsVersion, backendVersion: c.backendVersion, ...deviceKey(c), ...backendOf(c.backend).precisionKey(env, probes) };
}

/** What a model task on the runtime's backend asks the batch scheduler for (a GPU backend: one GPU). */
export function backendResources(backend: Json | undefined): StageResources {
  return { ...(isBackendName(backend) ? backendOf(backend).resources : CPU_RESOURCES) };
}

// The choice from fresh probes (what workers load and runs key by), and one a read command took
// from the store's probe memo (never handed to a worker: ensureBackend resolves without a memo).
let live: BackendChoice | undefined;
let recalled: BackendChoice | undefined;
let recalledRuntime: JsonObject | undefined;

function resolved(probes?: ProbeMemo): BackendChoice {
  if (!probes) return (live ??= describeBackendChoice());
  // Fresh (run, gc): probe (in-process caches make repeats cheap) and file the answers in the store.
  if (probes.fresh) return (live = describeBackendChoice(undefined, probes));
  return live ?? (recalled ??= describeBackendChoice(undefined, probes));
}

/** The model stages' runtime (StageDecl.runtime): `ctx.probes`, the store's memo of the slow backend probes. */
export function modelRuntime(where: RuntimeTarget = 'local', ctx: RuntimeContext = {}): JsonObject {
  if (where === 'remote') return requestedRuntime(process.env, ctx);
  const c = resolved(ctx.probes);
  // The precision part (OpenBLAS's core) from the same source as the choice: the memo's answers
  // for a recalled choice (once per process: a read command asks for every model stage); fresh
  // probes (filed when the memo is fresh) for a live one.
  if (c === recalled) return structuredClone((recalledRuntime ??= runtimeOf(c, process.env, ctx.probes)));
  return runtimeOf(c, process.env, ctx.probes?.fresh ? ctx.probes : undefined);
}

/**
 * The runtime batch jobs will have, from what is requested ($WEAKCORR_BACKEND, $WEAKCORR_DEVICE)
 * rather than from this host, which may have no GPU; no tfjs is loaded. Package versions are read
 * here: the nodes run this very checkout. Each job checks on its node that it gets exactly this
 * runtime. `auto` (nothing requested) resolves on this host as a local run does.
 */
export function requestedRuntime(env: NodeJS.ProcessEnv = process.env, ctx: RuntimeContext = {}): JsonObject {
  const kind = parseBackendKind(env.WEAKCORR_BACKEND);
  if (kind === 'auto') return modelRuntime('local', ctx);
  const b = backendOf(kind);
  const backendVersion = packageVersion(b.package);
  if (!backendVersion) throw new Error(`WEAKCORR_BACKEND=${kind}: ${b.package} is not installed (the compute nodes run this checkout's node_modules)`);
  return { backend: kind, tfjsVersion: packageVersion('@tensorflow/tfjs') ?? 'unknown', backendVersion, ...requestedDevice(kind, env, ctx.probes), ...b.precisionKey(env, ctx.probes) };
}

/** The device part of the key for nodes of a requested GPU backend: $WEAKCORR_DEVICE, else this host's own. */
function requestedDevice(kind: ConcreteBackend, env: NodeJS.ProcessEnv, probes?: ProbeMemo): JsonObject {
  const declares = backendOf(kind).declaredDevice;
  if (!declares) return {};
  const declared = env.WEAKCORR_DEVICE?.trim();
  if (declared) return declares.parse(declared);
  try {
    return deviceKey(describeBackendChoice(kind, probes));
  } catch (e) {
    throw new Error(`WEAKCORR_BACKEND=${kind} for batch jobs: this host cannot name the compute nodes' device, which is part of every model task's key (${(e as Error).message}); set WEAKCORR_DEVICE to it, e.g. ${declares.example}. A job whose node has another device fails and names the one it has`);
  }
}

let ready: Promise<BackendInfo & { deviceLabel: string }> | undefined;

export function ensureBackend(log: (line: string) => void): Promise<BackendInfo & { deviceLabel: string }> {
  ready ??= import('./backend.ts').then(async ({ selectBackend }) => {
    const c = resolved();
    const info = await selectBackend(c.backend, { log });
    // The key names a device (webgpu: an adapter); the worker must have got that very one.
    backendOf(c.backend).assertSameDevice?.(c, info);
    return { ...info, deviceLabel: deviceLabel(c) };
  });
  return ready;
}
