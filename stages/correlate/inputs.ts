// What a correlate task measures on, without tfjs: the samples X (the A.1 sample exactly as the
// nets see it) and the parameters (theta0 from the seed, or the trained ones from train-a1).
// Type-only: mlp.ts loads tfjs, and this module is imported by the stage declaration.
import type { HostLayer } from '../model/mlp.ts';
import { paramCounts, resolveSpec, type MlpSpec } from '../model/spec.ts';
import type { Split } from '../train/data.ts';
import { a1Samples, type A1Params } from '../protocols/a1/job.ts';

export type A1SampleParams = Pick<A1Params, 'trainSamples' | 'testSamples' | 'permutationSeed' | 'zscore'>;

/**
 * X: the first `samples` rows of the A.1 sample, train part then test part, each part z-scored
 * with its own statistics exactly as train-a1 sees it (a1Samples). Row-major [samples, dim].
 */
export function correlationSamples(train: Split, a1: A1SampleParams, dataset: string, samples: number): { x: Float32Array; count: number; dim: number } {
  const available = a1.trainSamples + a1.testSamples;
  if (!Number.isInteger(samples) || samples < 1)
    throw new Error(`correlate.samples must be a positive integer, got ${samples}`);
  if (samples > available)
    throw new Error(`correlate.samples is ${samples}, but the A.1 sample has only a1.trainSamples + a1.testSamples = ` +
      `${a1.trainSamples} + ${a1.testSamples} = ${available} images: lower correlate.samples or raise a1.trainSamples/a1.testSamples`);
  const { train: tr, test: te } = a1Samples(train, a1, dataset);
  const dim = train.dim;
  const x = new Float32Array(samples * dim);
  const fromTrain = Math.min(samples, tr.count);
  x.set(tr.x.subarray(0, fromTrain * dim), 0);
  if (samples > fromTrain) x.set(te.x.subarray(0, (samples - fromTrain) * dim), fromTrain * dim);
  return { x, count: samples, dim };
}

/**
 * Parameters from train-a1's 'params' artifact: float32 little-endian, flat order
 * W_0 (row-major [fanIn, fanOut]), b_0, ..., W_L, b_L.
 */
export function hostParamsFromBytes(spec: MlpSpec, bytes: Uint8Array, what = 'params'): HostLayer[] {
  const r = resolveSpec(spec);
  const total = paramCounts(r).total;
  if (bytes.byteLength !== 4 * total)
    throw new Error(`${what}: ${bytes.byteLength} bytes, but a ${r.sizes.join('-')} net has ${total} float32 parameters (${4 * total} bytes)`);
  // Copy: a Buffer from the store may sit at an offset that is not a multiple of 4.
  const flat = new Float32Array(total);
  new Uint8Array(flat.buffer).set(bytes);
  const layers: HostLayer[] = [];
  let at = 0;
  for (let l = 0; l <= r.depth; l++) {
    const fanIn = r.sizes[l];
    const fanOut = r.sizes[l + 1];
    const W = flat.slice(at, (at += fanIn * fanOut));
    const b = flat.slice(at, (at += fanOut));
    layers.push({ fanIn, fanOut, W, b });
  }
  return layers;
}

/** Inverse of hostParamsFromBytes (the layout train-a1 writes). */
export function hostParamsToBytes(host: readonly HostLayer[]): Uint8Array {
  const total = host.reduce((s, h) => s + h.W.length + h.b.length, 0);
  const flat = new Float32Array(total);
  let at = 0;
  for (const h of host) {
    flat.set(h.W, at);
    flat.set(h.b, (at += h.W.length));
    at += h.b.length;
  }
  return new Uint8Array(flat.buffer);
}
