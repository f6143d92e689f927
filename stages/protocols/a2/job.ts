// A.2's training job (docs/science.md, "Protocols"): MNIST standard split, standard parameterization,
// SGD with seeded shuffling and drop_last, eta = lr0 * n^alpha.
import type { Static } from '@sinclair/typebox';
import type { MlpSpec } from '../../model/mlp.ts';
import { gatherScaled, oneHot, permutation, sgdBatches, type Split } from '../../train/data.ts';
import type { EvalSet, TrainJob } from '../../train/loop.ts';
import type { JobHooks } from '../../train/stage.ts';
import type { A2Config } from './config.ts';

export type A2RunParams = Omit<Static<typeof A2Config>, 'widths' | 'seeds' | 'alphas'>;

export interface A2Point {
  width: number;
  seed: number;
  alpha: number;
}

/** Test images monitored along A.2 training (the full `testSize` set is used at the end). */
const A2_MONITOR = 256;

/** eta = lr0 * n^alpha */
export function a2LearningRate(lr0: number, width: number, alpha: number): number {
  return lr0 * Math.pow(width, alpha);
}

/**
 * A.2: MNIST standard split, standard parameterization, SGD with seeded shuffling and
 * drop_last; the seed seeds both the initialization and the batch order.
 */
export function a2Job(train: Split, test: Split, p: A2RunParams, pt: A2Point, hooks: JobHooks): TrainJob {
  if (p.testSize > test.count)
    throw new Error(`a2.testSize is ${p.testSize}, but the MNIST test split has only ${test.count} images`);
  const testIdx = Uint32Array.from({ length: p.testSize }, (_, i) => i);
  const finalTest: EvalSet = { x: gatherScaled(test, testIdx), y: oneHot(test, testIdx), count: p.testSize };
  const mon = Math.min(A2_MONITOR, p.testSize);
  const monitorTest: EvalSet = { x: finalTest.x.subarray(0, mon * test.dim), y: finalTest.y.subarray(0, mon * 10), count: mon };
  const batches = sgdBatches(train.count, p.batch, pt.seed);
  const monIdx = permutation(train.count, 0x7a1).subarray(0, A2_MONITOR);
  const monitorTrain: EvalSet = { x: gatherScaled(train, monIdx), y: oneHot(train, monIdx), count: monIdx.length };
  const spec: MlpSpec = { dIn: train.dim, width: pt.width, depth: p.depth, activation: p.activation, parameterization: 'standard' };
  return {
    spec, seed: pt.seed, lr: a2LearningRate(p.lr0, pt.width, pt.alpha), lossScale: p.lossScale, steps: p.steps,
    logEvery: p.logEvery, batch: p.batch,
    nextBatch: () => {
      const idx = batches.next().value as Uint32Array;
      return { x: gatherScaled(train, idx), y: oneHot(train, idx) };
    },
    monitorTrain, monitorTest, finalTrain: monitorTrain, finalTest,
    ...hooks,
  };
}
