// The paper's two training protocols (science.md, "Protocols") as TrainJobs.
import type { MatrixSpec } from '../../pipeline/engine/types.ts';
import type { ActivationName } from '../model/activations.ts';
import type { MlpSpec } from '../model/mlp.ts';
import { gatherScaled, oneHot, permutation, sgdBatches, zscoreInPlace, type Split } from './data.ts';
import type { EvalSet, TrainJob } from './loop.ts';

export interface A1Params {
  trainSamples: number;
  testSamples: number;
  permutationSeed: number;
  steps: number;
  lr: number;
  logEvery: number;
  parameterization: 'ntk' | 'standard';
  sigmaW: number;
  sigmaB: number;
  lossScale: number;
  zscore: boolean;
}

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

/**
 * A.1: a fixed permutation of the train split gives the first `trainSamples` images for
 * training and the next `testSamples` for testing (the same for every width and seed);
 * full-batch gradient descent.
 */
export function a1Samples(train: Split, p: Pick<A1Params, 'trainSamples' | 'testSamples' | 'permutationSeed' | 'zscore'>, dataset: string): { train: EvalSet; test: EvalSet } {
  const need = p.trainSamples + p.testSamples;
  if (need > train.count)
    throw new Error(`a1.trainSamples + a1.testSamples = ${need}, but ${dataset}'s train split has only ${train.count} images`);
  const perm = permutation(train.count, p.permutationSeed);
  const make = (idx: Uint32Array): EvalSet => {
    const x = gatherScaled(train, idx);
    if (p.zscore) zscoreInPlace(x);
    return { x, y: oneHot(train, idx), count: idx.length };
  };
  return { train: make(perm.subarray(0, p.trainSamples)), test: make(perm.subarray(p.trainSamples, need)) };
}

export function a1Job(train: Split, p: A1Params, pt: A1Point, hooks: Pick<TrainJob, 'progress' | 'signal' | 'keepParams'>): TrainJob {
  const { train: tr, test: te } = a1Samples(train, p, pt.dataset);
  const spec: MlpSpec = {
    dIn: train.dim, width: pt.width, depth: pt.depth, activation: pt.activation,
    parameterization: p.parameterization, sigmaW: p.sigmaW, sigmaB: p.sigmaB,
  };
  return {
    spec, seed: pt.seed, lr: p.lr, lossScale: p.lossScale, steps: p.steps, logEvery: p.logEvery,
    batch: tr.count,
    nextBatch: () => ({ x: tr.x, y: tr.y }),
    monitorTrain: tr, monitorTest: te, finalTrain: tr, finalTest: te,
    ...hooks,
  };
}

export interface A2Params {
  lr0: number;
  steps: number;
  batch: number;
  testSize: number;
  activation: ActivationName;
  depth: number;
  lossScale: number;
  logEvery: number;
}

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
export function a2Job(train: Split, test: Split, p: A2Params, pt: A2Point, hooks: Pick<TrainJob, 'progress' | 'signal' | 'keepParams'>): TrainJob {
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
