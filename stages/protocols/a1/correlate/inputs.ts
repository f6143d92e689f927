// What a correlate task measures on, without tfjs: the samples X (the A.1 sample exactly as the
// nets see it) and the parameters (theta0 from the seed, or the trained ones from train-a1).
// The stage declaration imports this module: keep tfjs out of it.
import type { Split } from '../../../train/data.ts';
import { InputError } from '../../../../pipeline/engine/errors.ts';
import { a1Samples, type A1DrawParams } from '../job.ts';

// The parameters come from train-a1's 'params' artifact (layout: model/param-bytes.ts).
export { hostParamsFromBytes } from '../../../model/param-bytes.ts';

export type A1SampleParams = A1DrawParams;

/** The plan-time check: the correlation samples come from the A.1 sample, so they cannot outnumber it. */
export function samplesProblem(samples: number, p: { trainSamples: number; testSamples: number }, names: { samples: string; section: string }): string | null {
  const s = names.section;
  return samples > p.trainSamples + p.testSamples
    ? `${names.samples} is ${samples}, but the sample has only ${s}.trainSamples + ${s}.testSamples = ${p.trainSamples} + ${p.testSamples} = ${p.trainSamples + p.testSamples} images: lower ${names.samples} or raise ${s}.trainSamples/${s}.testSamples`
    : null;
}

/**
 * X: the first `samples` rows of the A.1 sample, train part then test part, each part z-scored
 * with its own statistics exactly as train-a1 sees it (a1Samples, the same net seed's draw).
 * Row-major [samples, dim].
 */
export function correlationSamples(
  train: Split, a1: A1SampleParams, dataset: string, netSeed: number, samples: number,
  names: { samples: string; section: string } = { samples: 'correlate.samples', section: 'a1' },
): { x: Float32Array; count: number; dim: number } {
  const available = a1.trainSamples + a1.testSamples;
  const s = names.section;
  if (!Number.isInteger(samples) || samples < 1)
    throw new InputError('BAD_CONFIG', `${names.samples} must be a positive integer, got ${samples}`);
  if (samples > available)
    throw new InputError('CONFIG_EXCEEDS_DATA', `${names.samples} is ${samples}, but the sample has only ${s}.trainSamples + ${s}.testSamples = ` +
      `${a1.trainSamples} + ${a1.testSamples} = ${available} images`, { hint: `lower ${names.samples} or raise ${s}.trainSamples/${s}.testSamples` });
  const { train: tr, test: te } = a1Samples(train, a1, dataset, netSeed, s);
  const dim = train.dim;
  const x = new Float32Array(samples * dim);
  const fromTrain = Math.min(samples, tr.count);
  x.set(tr.x.subarray(0, fromTrain * dim), 0);
  if (samples > fromTrain) x.set(te.x.subarray(0, (samples - fromTrain) * dim), fromTrain * dim);
  return { x, count: samples, dim };
}
