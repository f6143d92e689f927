// A training stage: one task per grid point of a protocol trains an MLP and its first-order
// linearization around theta0 side by side (docs/science.md, "Net and linearization") and writes a
// train-result. A protocol supplies the grid, the params and the job; this file does the rest.
import type { JsonObject, MatrixSpec, StageResources } from '../../pipeline/engine/types.ts';
import {
  bytesOutput, defineStage, jsonOutput, need, nestParams,
  type Need, type ParamDecl, type ParamKey, type ParamValues, type Stage, type TypedContext, type TypedMetrics,
} from '../../pipeline/engine/define-stage.ts';
import { fetchStage } from '../fetch/index.ts';
import { TRAIN_RESULT_ID, TrainResultSchema, type TrainResult } from '../contracts/train-result.ts';
import { paramsToBytes } from '../model/param-bytes.ts';
import { modelDesc, resolveSpec } from '../model/spec.ts';
import { backendResources, ensureBackend, modelRuntime } from '../model/runtime.ts';
import type { TrainJob, TrainOutcome } from './loop.ts';
import { stepFlops } from './metrics.ts';

/** What a job builder gets besides the context: the hooks every job passes to the loop. */
export type JobHooks = Pick<TrainJob, 'progress' | 'signal' | 'keepParams'>;

/** A training stage's outputs: the train-result, and optionally the final parameters. */
export interface TrainOutputs { result: TrainResult }
export type TrainingStage<N extends string = string> = Stage<N, TrainOutputs, 'params'>;

export interface TrainingStageSpec<N extends string, P extends ParamDecl> {
  name: N;
  /** The protocol id written into every result. */
  protocol: string;
  /** The module declaring the stage (import.meta.url): its graph is the stage's code fingerprint. */
  module: string;
  description: string;
  params: P;
  matrix: MatrixSpec;
  /** Which fetch outputs the job reads (always from the task's own dataset); none for a job that makes its own data. */
  splits: ('train' | 'test')[];
  /** Extra dependencies beside fetch. */
  needs?: Need<NoInfer<ParamKey<P>>>[];
  /** Save the final parameters (output 'params') for a downstream stage. */
  keepParams?: (params: ParamValues<P>) => boolean;
  /** Layer sizes and batch of one task, for the GPU-hour estimate. */
  shape(task: { params: ParamValues<P>; axes: JsonObject }): { sizes: number[]; batch: number; steps: number };
  job(ctx: TypedContext<ParamValues<P>, TrainOutputs, 'params'>, hooks: JobHooks): Promise<TrainJob>;
}

const INPUT_DIM: Record<string, number> = { mnist: 784, 'fashion-mnist': 784, 'cifar-10': 3072 };

/** Layer sizes of a grid point's MLP (input from its dataset, `depth` hidden layers of `width`, 10 outputs), for estimates. */
export function gridSizes(axes: JsonObject, depth = Number(axes.depth)): number[] {
  return [INPUT_DIM[String(axes.dataset)] ?? 784, ...Array.from({ length: depth }, () => Number(axes.width)), 10];
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

function resultOf(protocol: string, axes: JsonObject, job: TrainJob, out: TrainOutcome, backend: TrainResult['backend'], kernelShare: number): TrainResult {
  const r = resolveSpec(job.spec);
  return {
    schema: TRAIN_RESULT_ID,
    protocol,
    point: {
      dataset: String(axes.dataset), activation: r.activation, depth: r.depth, width: r.width, seed: job.seed,
      alpha: typeof axes.alpha === 'number' ? axes.alpha : null,
    },
    model: modelDesc(r),
    lr: job.lr, lossScale: job.lossScale, steps: job.steps, stepsDone: out.stepsDone, batch: job.batch,
    status: out.status,
    final: out.final,
    log: out.log.map((row) => ({ step: row.step, lossNet: finite(row.lossNet), lossLin: finite(row.lossLin), eq24Train: finite(row.eq24Train), eq24Test: finite(row.eq24Test), mseBatch: finite(row.mseBatch), mseMonitor: finite(row.mseMonitor), testLossNet: finite(row.testLossNet), testLossLin: finite(row.testLossLin) })),
    flops: out.flops,
    kernelShare,
    ...(out.kernelDrift === undefined ? {} : { kernelDrift: out.kernelDrift }),
    backend,
  };
}

/** `results`: the final metrics of one training run (Eq. 24, Eq. 30, losses and their gap). */
const trainMetrics: TypedMetrics<TrainOutputs> = {
  read(output) {
    const r = output('result');
    return { status: r.status, stepsDone: r.stepsDone, ...r.final };
  },
};

/** A train task on a GPU backend asks the batch scheduler for one GPU; on a CPU backend, one core. */
const trainResources = (runtime: JsonObject): StageResources =>
  backendResources(runtime.backend);

const DEFAULT_GPU_TFLOPS = 20;

/**
 * Compute seconds from the model size: the side-by-side step's matmul FLOPs (stepFlops) times the
 * steps, at a sustained rate: $WEAKCORR_GPU_TFLOPS (what `make gpu-check` measured), else an
 * assumed 20 TFLOP/s (fp32 on a current data-centre GPU at a realistic fraction of peak).
 */
function estimateFrom(flopsOf: (t: { params: JsonObject; axes: JsonObject }) => number) {
  return (tasks: { params: JsonObject; axes: JsonObject }[]): { seconds: number; basis: string } => {
    const measured = Number(process.env.WEAKCORR_GPU_TFLOPS);
    const fromEnv = Number.isFinite(measured) && measured > 0;
    const tflops = fromEnv ? measured : DEFAULT_GPU_TFLOPS;
    const flops = tasks.reduce((s, t) => s + flopsOf(t), 0);
    return { seconds: flops / (tflops * 1e12), basis: `${(flops / 1e15).toFixed(1)} PFLOP of matmuls at ${tflops} TFLOP/s${fromEnv ? ' ($WEAKCORR_GPU_TFLOPS)' : ' assumed; set $WEAKCORR_GPU_TFLOPS from make gpu-check'}` };
  };
}

async function runAndWrite(ctx: Pick<TypedContext<unknown, TrainOutputs, 'params'>, 'log' | 'axes' | 'write' | 'writeBytes'>, protocol: string, job: TrainJob): Promise<void> {
  const info = await ensureBackend((line) => ctx.log(line));
  // Loaded here, in the worker: the parent process that plans the run never loads tfjs.
  const { trainSideBySide } = await import('./loop.ts');
  const { kernelShareAtInit } = await import('./kernel-share.ts');
  const kernelShare = await kernelShareAtInit(job);
  const out = await trainSideBySide(job);
  // Wall time goes to the task record (through the log), never into the artifact: identical work
  // must write identical bytes, or early cutoff could never fire downstream.
  ctx.log(`trained ${out.stepsDone} step(s) in ${(out.wallMs / 1000).toFixed(1)}s`);
  if (out.status === 'diverged') ctx.log(`diverged after ${out.stepsDone} step(s) (lr ${job.lr}): recorded, not an error`);
  const result = resultOf(protocol, ctx.axes, job, out, { name: info.name, tfjsVersion: info.tfjsVersion, device: info.deviceLabel }, kernelShare);
  await ctx.write('result', result);
  if (out.finalParams) await ctx.writeBytes('params', paramsToBytes(out.finalParams));
}

export function trainingStage<N extends string, P extends ParamDecl>(spec: TrainingStageSpec<N, P>): TrainingStage<N> {
  const decl = defineStage({
    name: spec.name,
    module: spec.module,
    description: spec.description,
    params: spec.params,
    matrix: spec.matrix,
    // A job that makes its own data (splits: []) needs no dataset.
    needs: [...(spec.splits.length ? [need(fetchStage, { outputs: spec.splits.flatMap((s) => [`${s}_images`, `${s}_labels`] as const) })] : []), ...(spec.needs ?? [])],
    json: { result: jsonOutput(TrainResultSchema) },
    /** trained net parameters, float32 in the flat order W_0, b_0, ..., W_L, b_L (model/param-bytes.ts) */
    bytes: { params: bytesOutput({ optional: true }) },
    metrics: trainMetrics,
    runtime: modelRuntime,
    resources: trainResources,
    async run(ctx) {
      const hooks: JobHooks = {
        progress: (done, total, message) => ctx.progress(done, total, message),
        signal: ctx.signal,
        keepParams: spec.keepParams?.(ctx.params) ?? false,
      };
      await runAndWrite(ctx, spec.protocol, await spec.job(ctx, hooks));
    },
  });
  // The estimate reads the same typed params the job does.
  const typed = (t: { params: JsonObject; axes: JsonObject }) => ({ params: nestParams(spec.params, t.params), axes: t.axes });
  return {
    ...decl,
    estimateSeconds: estimateFrom((t) => {
      const s = spec.shape(typed(t));
      return stepFlops(s.sizes, s.batch) * s.steps;
    }),
  };
}
