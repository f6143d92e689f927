// A.1's grid and training job (docs/science.md, "Protocols"): a draw of train-split images (per seed,
// or one shared draw), full-batch gradient descent.
import type { Static } from '@sinclair/typebox';
import { InputError } from '../../../pipeline/engine/errors.ts';
import type { MatrixSpec } from '../../../pipeline/engine/types.ts';
import type { ActivationName } from '../../model/activations.ts';
import { hashKey } from '../../model/prng.ts';
import type { MlpSpec } from '../../model/mlp.ts';
import { gatherScaled, oneHot, permutation, zscoreInPlace, type Split } from '../../train/data.ts';
import type { EvalSet, TrainJob } from '../../train/loop.ts';
import type { JobHooks } from '../../train/stage.ts';
import type { A1Config } from './config.ts';

export type A1Params = Static<typeof A1Config>;
/** What one A.1 task reads: the config without the grid's lists. */
export type A1RunParams = Omit<A1Params, 'datasets' | 'activations' | 'depths' | 'widths' | 'seeds'>;

/** The A.1 grid: one network per (dataset, activation, depth, width, seed); train-a1 and correlate share it. */
export const A1_GRID: MatrixSpec = {
  dataset: 'a1.datasets',
  activation: 'a1.activations',
  depth: { key: 'a1.depths', prefix: 'L' },
  width: { key: 'a1.widths', prefix: 'w' },
  seed: { key: 'a1.seeds', prefix: 's' },
};

export interface A1Point {
  dataset: string;
  activation: ActivationName;
  depth: number;
  width: number;
  seed: number;
}

/** A task's grid point from its axes. */
export function a1Point(axes: Record<string, unknown>): A1Point {
  return { dataset: String(axes.dataset), activation: axes.activation as ActivationName, depth: axes.depth as number, width: axes.width as number, seed: axes.seed as number };
}

/** The A.1 net of a grid point: train-a1 and correlate must build exactly the same one. */
export function a1Spec(dIn: number, pt: A1Point, p: Pick<A1Params, 'parameterization' | 'sigmaW' | 'sigmaB'>): MlpSpec {
  return { dIn, width: pt.width, depth: pt.depth, activation: pt.activation, parameterization: p.parameterization, sigmaW: p.sigmaW, sigmaB: p.sigmaB };
}

export type A1DrawParams = Pick<A1Params, 'trainSamples' | 'testSamples' | 'permutationSeed' | 'drawPerSeed' | 'zscore'>;

/**
 * The permutation key of a net's sample: with drawPerSeed the draw is a random effect of the
 * seed (like the init), so intervals over seeds cover it; otherwise one draw for all seeds.
 */
export function a1DrawKey(p: Pick<A1Params, 'permutationSeed' | 'drawPerSeed'>, netSeed: number): number {
  return p.drawPerSeed ? hashKey([p.permutationSeed, netSeed, 0xd4a7]) : p.permutationSeed;
}

/**
 * A.1: a permutation of the train split (a1DrawKey) gives the first `trainSamples` images for
 * training and the next `testSamples` for testing (the same for every width); full-batch
 * gradient descent. train-a1 and correlate both call this, so they see the same images.
 */
export function a1Samples(train: Split, p: A1DrawParams, dataset: string, netSeed: number, section = 'a1'): { train: EvalSet; test: EvalSet } {
  const need = p.trainSamples + p.testSamples;
  if (need > train.count)
    throw new InputError('CONFIG_EXCEEDS_DATA', `${section}.trainSamples + ${section}.testSamples = ${need}, but ${dataset}'s train split has only ${train.count} images`,
      { hint: `lower ${section}.trainSamples or ${section}.testSamples` });
  const perm = permutation(train.count, a1DrawKey(p, netSeed));
  const make = (idx: Uint32Array): EvalSet => {
    const x = gatherScaled(train, idx);
    if (p.zscore) zscoreInPlace(x);
    return { x, y: oneHot(train, idx), count: idx.length };
  };
  return { train: make(perm.subarray(0, p.trainSamples)), test: make(perm.subarray(p.trainSamples, need)) };
}

export function a1Job(train: Split, p: A1RunParams, pt: A1Point, hooks: JobHooks): TrainJob {
  const { train: tr, test: te } = a1Samples(train, p, pt.dataset, pt.seed);
  return {
    spec: a1Spec(train.dim, pt, p), seed: pt.seed, lr: p.lr, lossScale: p.lossScale, steps: p.steps, logEvery: p.logEvery,
    batch: tr.count,
    nextBatch: () => ({ x: tr.x, y: tr.y }),
    fullBatch: tr, linearization: p.linearization,
    monitorTrain: tr, monitorTest: te, finalTrain: tr, finalTest: te,
    ...hooks,
  };
}
