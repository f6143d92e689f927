// The negative control's grid, nets and jobs. No tfjs: the stage declarations import this.
import type { Static } from '@sinclair/typebox';
import type { MeanFieldConfig, MF_RUN_KEYS } from './config.ts';
import type { MatrixSpec } from '../../../pipeline/engine/types.ts';
import type { ActivationName } from '../../model/activation-names.ts';
import type { MlpSpec } from '../../model/spec.ts';
import type { Split } from '../../train/data.ts';
import type { TrainJob } from '../../train/loop.ts';
import type { JobHooks } from '../../train/stage.ts';
import { a1Samples } from '../a1/job.ts';

export type MfParam = 'ntk' | 'gamma0.25' | 'meanfield';

/** The output exponent gamma of each parameterization (kappa = n^-gamma on the output layer, spec.ts). */
export const MF_GAMMA: Record<MfParam, number> = { ntk: 0, 'gamma0.25': 0.25, meanfield: 0.5 };

export const MF_GRID: MatrixSpec = {
  parameterization: 'meanfield.parameterizations',
  dataset: 'meanfield.datasets',
  activation: 'meanfield.activations',
  depth: { key: 'meanfield.depths', prefix: 'L' },
  width: { key: 'meanfield.widths', prefix: 'w' },
  seed: { key: 'meanfield.seeds', prefix: 's' },
};

export interface MfPoint { parameterization: MfParam; dataset: string; activation: ActivationName; depth: number; width: number; seed: number }

/** What one training task reads: the config keys MF_RUN_KEYS names. */
export type MfRunParams = Pick<Static<typeof MeanFieldConfig>, (typeof MF_RUN_KEYS)[number]>;

export function mfPoint(axes: Record<string, unknown>): MfPoint {
  return {
    parameterization: axes.parameterization as MfParam, dataset: String(axes.dataset), activation: axes.activation as ActivationName,
    depth: axes.depth as number, width: axes.width as number, seed: axes.seed as number,
  };
}

/**
 * eta = lr0 n^(2 gamma): lr0 in the NTK parameterization, lr0 * n in the mean-field one (its NTK
 * is O(1/n)), lr0 sqrt(n) at gamma = 1/4: eta K stays O(1) at theta0 for every gamma.
 */
export function mfLearningRate(p: MfParam, lr0: number, width: number): number {
  return p === 'meanfield' ? lr0 * width : p === 'ntk' ? lr0 : lr0 * Math.pow(width, 2 * MF_GAMMA[p]);
}

export function mfSpec(dIn: number, pt: MfPoint, p: Pick<MfRunParams, 'sigmaW' | 'sigmaB'>): MlpSpec {
  const base = { dIn, width: pt.width, depth: pt.depth, activation: pt.activation, sigmaW: p.sigmaW, sigmaB: p.sigmaB };
  if (pt.parameterization === 'gamma0.25') return { ...base, parameterization: 'meanfield', outputExponent: MF_GAMMA['gamma0.25'] };
  return { ...base, parameterization: pt.parameterization };
}

/** A.1's protocol (fixed image draw, full-batch GD) with the point's parameterization and eta. */
export function mfJob(train: Split, p: MfRunParams, pt: MfPoint, hooks: JobHooks): TrainJob {
  const { train: tr, test: te } = a1Samples(train, p, pt.dataset, pt.seed);
  return {
    spec: mfSpec(train.dim, pt, p), seed: pt.seed, lr: mfLearningRate(pt.parameterization, p.lr0, pt.width), lossScale: p.lossScale,
    steps: p.steps, logEvery: p.logEvery, batch: tr.count,
    nextBatch: () => ({ x: tr.x, y: tr.y }),
    fullBatch: tr, linearization: p.linearization,
    monitorTrain: tr, monitorTest: te, finalTrain: tr, finalTest: te,
    // The control's second witness beside C^{0,3}: the kernel moves O(1) under mean-field only.
    kernelDrift: true,
    ...hooks,
  };
}
