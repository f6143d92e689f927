// Stages 'train-a1' and 'train-a2': one task per grid point trains an MLP and its first-order
// linearization around theta0 side by side (science.md, "Net and linearization", "Protocols").
import { readFileSync } from 'node:fs';
import type { Json, JsonObject, MetricsDecl, StageDecl, StageResources, TaskContext } from '../../pipeline/engine/types.ts';
import { stepFlops } from './metrics.ts';
import type { ActivationName } from '../model/activations.ts';
import { paramCounts, resolveSpec } from '../model/spec.ts';
import { ensureBackend, modelRuntime } from '../model/runtime.ts';
import { splitFromBytes, type Split } from './data.ts';
import type { TrainJob, TrainOutcome } from './loop.ts';
import { A1_GRID, a1Job, a2Job, type A1Params, type A2Params } from './protocols.ts';

export const trainResultSchema = JSON.parse(
  readFileSync(new URL('../../schemas/train-result.schema.json', import.meta.url), 'utf8'),
) as JsonObject;

const A1_KEYS = ['trainSamples', 'testSamples', 'permutationSeed', 'steps', 'lr', 'logEvery', 'parameterization', 'sigmaW', 'sigmaB', 'lossScale', 'zscore'] as const;
const A2_KEYS = ['lr0', 'steps', 'batch', 'testSize', 'activation', 'depth', 'lossScale', 'logEvery'] as const;

function section<T>(ctx: TaskContext, prefix: string, keys: readonly string[]): T {
  return Object.fromEntries(keys.map((k) => [k, ctx.params[`${prefix}.${k}`]])) as T;
}

async function readSplit(ctx: TaskContext, split: 'train' | 'test'): Promise<Split> {
  const up = ctx.inputs.fetch?.[0];
  if (!up) throw new Error(`${ctx.id}: no fetch input`);
  const images = await ctx.readBytes(up.outputs[`${split}_images`]!);
  const labels = await ctx.readBytes(up.outputs[`${split}_labels`]!);
  return splitFromBytes(images, labels, `${up.id} ${split}`);
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

function resultJson(ctx: TaskContext, protocol: 'a1' | 'a2', job: TrainJob, out: TrainOutcome, backend: { name: string; tfjsVersion: string; device: string }): Json {
  const r = resolveSpec(job.spec);
  return {
    schema: 'weakcorr/train-result@1',
    protocol,
    point: {
      dataset: String(ctx.axes.dataset), activation: r.activation, depth: r.depth, width: r.width, seed: job.seed,
      alpha: protocol === 'a2' ? (ctx.axes.alpha as number) : null,
    },
    model: { dIn: r.dIn, sizes: r.sizes, parameterization: r.parameterization, sigmaW: r.sigmaW, sigmaB: r.sigmaB, parameters: paramCounts(job.spec).total },
    lr: job.lr, lossScale: job.lossScale, steps: job.steps, stepsDone: out.stepsDone, batch: job.batch,
    status: out.status,
    final: out.final as unknown as Json,
    log: out.log.map((row) => ({ step: row.step, lossNet: finite(row.lossNet), lossLin: finite(row.lossLin), eq24Train: finite(row.eq24Train), eq24Test: finite(row.eq24Test) })),
    flops: out.flops,
    backend,
  };
}

async function runAndWrite(ctx: TaskContext, protocol: 'a1' | 'a2', job: TrainJob): Promise<void> {
  const info = await ensureBackend((line) => ctx.log(line));
  // Loaded here, in the worker: the parent process that plans the run never loads tfjs.
  const { trainSideBySide } = await import('./loop.ts');
  const out = await trainSideBySide(job);
  // Wall time goes to the task record (through the log), never into the artifact: identical work
  // must write identical bytes, or early cutoff could never fire downstream.
  ctx.log(`trained ${out.stepsDone} step(s) in ${(out.wallMs / 1000).toFixed(1)}s`);
  if (out.status === 'diverged') ctx.log(`diverged after ${out.stepsDone} step(s) (lr ${job.lr}): recorded, not an error`);
  await ctx.writeJson('result', resultJson(ctx, protocol, job, out, { name: info.name, tfjsVersion: info.tfjsVersion, device: info.deviceLabel }));
  if (out.finalParams) {
    const total = out.finalParams.reduce((s, a) => s + a.length, 0);
    const flat = new Float32Array(total);
    let at = 0;
    for (const a of out.finalParams) flat.set(a, (at += a.length) - a.length);
    await ctx.writeBytes('params', new Uint8Array(flat.buffer));
  }
}

// Only A.1 parameters are ever read after training (correlate.atEnd), so only train-a1 declares that key.
const hooks = (ctx: TaskContext, keepParams = false): Pick<TrainJob, 'progress' | 'signal' | 'keepParams'> => ({
  progress: (done, total, message) => ctx.progress(done, total, message),
  signal: ctx.signal,
  keepParams,
});

/** `results`: the final metrics of one training run (Eq. 24, Eq. 30, losses and their gap). */
const trainMetrics: MetricsDecl = {
  read(outputs) {
    const r = outputs.result as { status: string; stepsDone: number; final: Record<string, number | null> };
    return { status: r.status, stepsDone: r.stepsDone, ...r.final };
  },
};

/** A train task on a GPU backend asks the batch scheduler for one GPU; on a CPU backend, one core. */
const trainResources = (runtime: JsonObject): StageResources =>
  ['gpu', 'webgpu'].includes(String(runtime.backend)) ? { gpus: 1, cpus: 2, memMB: 16_000 } : { cpus: 1, memMB: 4_000 };

const INPUT_DIM: Record<string, number> = { mnist: 784, 'fashion-mnist': 784, 'cifar-10': 3072 };
const DEFAULT_GPU_TFLOPS = 20;

/**
 * Compute seconds from the model size: the side-by-side step's matmul FLOPs (stepFlops) times the
 * steps, at a sustained rate: $WEAKCORR_GPU_TFLOPS (what `make gpu-check` measured), else an
 * assumed 20 TFLOP/s (fp32 on a current data-centre GPU at a realistic fraction of peak).
 */
function estimate(flopsOf: (t: { params: JsonObject; axes: JsonObject }) => number) {
  return (tasks: { params: JsonObject; axes: JsonObject }[]): { seconds: number; basis: string } => {
    const measured = Number(process.env.WEAKCORR_GPU_TFLOPS);
    const tflops = Number.isFinite(measured) && measured > 0 ? measured : DEFAULT_GPU_TFLOPS;
    const flops = tasks.reduce((s, t) => s + flopsOf(t), 0);
    return { seconds: flops / (tflops * 1e12), basis: `${(flops / 1e15).toFixed(1)} PFLOP of matmuls at ${tflops} TFLOP/s${Number.isFinite(measured) && measured > 0 ? ' ($WEAKCORR_GPU_TFLOPS)' : ' assumed; set $WEAKCORR_GPU_TFLOPS from make gpu-check'}` };
  };
}

const outputs = {
  result: { kind: 'json' as const, schema: trainResultSchema },
  /** trained net parameters, float32 in the flat order W_0, b_0, ..., W_L, b_L; only with correlate.atEnd */
  params: { kind: 'bytes' as const, optional: true },
};

export const trainA1Stage: StageDecl = {
  name: 'train-a1',
  module: import.meta.url,
  description: 'A.1: full-batch GD of an MLP and its linearization (Figures 2, dynamics)',
  params: [...A1_KEYS.map((k) => `a1.${k}`), 'correlate.atEnd'],
  matrix: A1_GRID,
  needs: [{ stage: 'fetch', outputs: ['train_images', 'train_labels'] }],
  outputs,
  metrics: trainMetrics,
  runtime: modelRuntime,
  resources: trainResources,
  estimateSeconds: estimate(({ params: p, axes: a }) => {
    const width = Number(a.width);
    const sizes = [INPUT_DIM[String(a.dataset)] ?? 784, ...Array.from({ length: Number(a.depth) }, () => width), 10];
    return stepFlops(sizes, Number(p['a1.trainSamples'])) * Number(p['a1.steps']);
  }),
  async run(ctx) {
    const p = section<A1Params>(ctx, 'a1', A1_KEYS);
    const train = await readSplit(ctx, 'train');
    const job = a1Job(train, p, {
      dataset: String(ctx.axes.dataset), activation: ctx.axes.activation as ActivationName,
      depth: ctx.axes.depth as number, width: ctx.axes.width as number, seed: ctx.axes.seed as number,
    }, hooks(ctx, ctx.params['correlate.atEnd'] === true));
    await runAndWrite(ctx, 'a1', job);
  },
};

export const trainA2Stage: StageDecl = {
  name: 'train-a2',
  module: import.meta.url,
  description: 'A.2: SGD of a GELU MLP and its linearization on MNIST, eta = lr0 n^alpha (Figure 4)',
  params: A2_KEYS.map((k) => `a2.${k}`),
  matrix: {
    dataset: { values: ['mnist'] },
    alpha: { key: 'a2.alphas', prefix: 'a' },
    width: { key: 'a2.widths', prefix: 'w' },
    seed: { key: 'a2.seeds', prefix: 's' },
  },
  needs: [{ stage: 'fetch', outputs: ['train_images', 'train_labels', 'test_images', 'test_labels'] }],
  outputs,
  metrics: trainMetrics,
  runtime: modelRuntime,
  resources: trainResources,
  estimateSeconds: estimate(({ params: p, axes: a }) => {
    const width = Number(a.width);
    const sizes = [784, ...Array.from({ length: Number(p['a2.depth']) }, () => width), 10];
    return stepFlops(sizes, Number(p['a2.batch'])) * Number(p['a2.steps']);
  }),
  async run(ctx) {
    const p = section<A2Params>(ctx, 'a2', A2_KEYS);
    const [train, test] = [await readSplit(ctx, 'train'), await readSplit(ctx, 'test')];
    const job = a2Job(train, test, p, { width: ctx.axes.width as number, seed: ctx.axes.seed as number, alpha: ctx.axes.alpha as number }, hooks(ctx));
    await runAndWrite(ctx, 'a2', job);
  },
};
