// Stage 'correlate': derivative correlations C^{0,1..3} of every A.1 net at theta0 (and,
// with correlate.atEnd, at the end of training), exact by Taylor mode and by the paper's
// sampled estimator (Eq. 25), per (sample, output) and aggregated (science.md, "Derivative
// correlations"). tfjs is loaded only inside run(), in the worker.
import type { StageDecl, TaskContext } from '../../pipeline/engine/types.ts';
import type { ActivationName } from '../model/activations.ts';
import type { MlpSpec } from '../model/spec.ts';
import { ensureBackend, modelRuntime } from '../model/runtime.ts';
import { splitFromBytes, type Split } from '../train/data.ts';
import { A1_GRID, type A1Params } from '../train/protocols.ts';
import { correlationSamples, hostParamsFromBytes } from './inputs.ts';
import { buildResult, correlationResultSchema, sampledSetSeed, type CorrelatePoint } from './result.ts';

const A1_KEYS = ['trainSamples', 'testSamples', 'permutationSeed', 'zscore', 'parameterization', 'sigmaW', 'sigmaB', 'lr'] as const;
const C_KEYS = ['samples', 'sampledSetSize', 'sampledSeed', 'atEnd'] as const;

export type CorrelateA1Params = Pick<A1Params, (typeof A1_KEYS)[number]>;
export interface CorrelateParams {
  samples: number;
  sampledSetSize: number;
  sampledSeed: number;
  atEnd: boolean;
}

function section<T>(ctx: TaskContext, prefix: string, keys: readonly string[]): T {
  return Object.fromEntries(keys.map((k) => [k, ctx.params[`${prefix}.${k}`]])) as T;
}

async function readTrainSplit(ctx: TaskContext): Promise<Split> {
  const up = ctx.inputs.fetch?.[0];
  if (!up) throw new Error(`${ctx.id}: no fetch input`);
  const images = await ctx.readBytes(up.outputs.train_images!);
  const labels = await ctx.readBytes(up.outputs.train_labels!);
  return splitFromBytes(images, labels, `${up.id} train`);
}

async function readTrainedParams(ctx: TaskContext): Promise<{ bytes: Uint8Array; from: string }> {
  const up = ctx.inputs['train-a1']?.[0];
  const ref = up?.outputs.params;
  if (!up || !ref)
    throw new Error(`${ctx.id}: correlate.atEnd is true, but ${up ? `${up.id} has no 'params' output` : 'no train-a1 task reached this task'} ` +
      `(train-a1 saves its final parameters only when correlate.atEnd is true)`);
  return { bytes: await ctx.readBytes(ref), from: up.id };
}

/** The A.1 net of a grid point: exactly the spec train-a1 builds (a1Job). */
export function a1Spec(dIn: number, pt: CorrelatePoint, a1: CorrelateA1Params): MlpSpec {
  return { dIn, width: pt.width, depth: pt.depth, activation: pt.activation, parameterization: a1.parameterization, sigmaW: a1.sigmaW, sigmaB: a1.sigmaB };
}

export const correlateStage: StageDecl = {
  name: 'correlate',
  module: import.meta.url,
  description: 'Derivative correlations C^{0,1..3} of the A.1 nets at theta0: exact (Taylor mode) and the sampled estimator (Eq. 25)',
  params: [...A1_KEYS.map((k) => `a1.${k}`), ...C_KEYS.map((k) => `correlate.${k}`)],
  matrix: A1_GRID,
  needs: [
    { stage: 'fetch', outputs: ['train_images', 'train_labels'] },
    { stage: 'train-a1', outputs: ['params'], when: 'correlate.atEnd' },
  ],
  outputs: { result: { kind: 'json', schema: correlationResultSchema } },
  metrics: {
    // `results`: the RMS of each exact correlation at init (and after training, with atEnd).
    read(outputs) {
      type Block = Record<'c01' | 'c02' | 'c03', { rms: number | null }>;
      const r = outputs.result as unknown as { exact: Block; atEnd: { exact: Block } | null };
      const out: Record<string, number | null> = {};
      for (const c of ['c01', 'c02', 'c03'] as const) {
        out[`${c} rms`] = r.exact[c].rms;
        if (r.atEnd) out[`${c} rms atEnd`] = r.atEnd.exact[c].rms;
      }
      return out;
    },
  },
  runtime: modelRuntime,
  async run(ctx) {
    const a1 = section<CorrelateA1Params>(ctx, 'a1', A1_KEYS);
    const c = section<CorrelateParams>(ctx, 'correlate', C_KEYS);
    const pt: CorrelatePoint = {
      dataset: String(ctx.axes.dataset), activation: ctx.axes.activation as ActivationName,
      depth: ctx.axes.depth as number, width: ctx.axes.width as number, seed: ctx.axes.seed as number,
    };
    const train = await readTrainSplit(ctx);
    const X = correlationSamples(train, a1, pt.dataset, c.samples);
    const spec = a1Spec(train.dim, pt, a1);
    const trained = c.atEnd ? await readTrainedParams(ctx) : null;
    const endHost = trained ? hostParamsFromBytes(spec, trained.bytes, `${trained.from} params`) : null;

    const info = await ensureBackend((line) => ctx.log(line));
    // Loaded here, in the worker: the parent process that plans the run never loads tfjs.
    const { measureCorrelations, theta0 } = await import('./measure.ts');
    const passes = endHost ? 2 : 1;
    const opts = (pass: number) => ({
      eta: a1.lr, perLayer: c.sampledSetSize, setSeed: sampledSetSeed(c.sampledSeed, pt.seed), signal: ctx.signal,
      progress: (done: number, total: number) => ctx.progress(pass * total + done, passes * total, pass === 0 ? 'theta0' : 'end of training'),
    });
    const atStart = await measureCorrelations(spec, theta0(spec, pt.seed), X.x, opts(0));
    const atEnd = endHost ? await measureCorrelations(spec, endHost, X.x, opts(1)) : null;
    await ctx.writeJson('result', buildResult({
      point: pt, spec, theta0: atStart, atEnd,
      backend: { name: info.name, tfjsVersion: info.tfjsVersion, device: info.deviceLabel },
    }));
  },
};
