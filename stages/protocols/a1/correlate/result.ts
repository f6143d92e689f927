// The 'result' artifact of a correlate task (contracts/correlation-result.ts). No tfjs.
import { CORRELATION_RESULT_ID, type CorrelationBlock, type CorrelationResult } from '../../../contracts/correlation-result.ts';
import { hashKey } from '../../../model/prng.ts';
import { modelDesc, resolveSpec, type MlpSpec } from '../../../model/spec.ts';
import { exactStat, sampledStat } from './aggregate.ts';
import type { Measured } from './measure.ts';


export interface CorrelatePoint {
  dataset: string;
  activation: MlpSpec['activation'];
  depth: number;
  width: number;
  seed: number;
}

/**
 * Seed of the sampled estimator's index set D for one net: correlate.sampledSeed mixed with the
 * net's seed, so every seed of a grid point draws its own D (the seed spread then includes
 * the spread of D) while the same config always draws the same D.
 */
export function sampledSetSeed(sampledSeed: number, netSeed: number): number {
  return hashKey([sampledSeed, netSeed, 0xc0]);
}

/** One measurement point (theta0, or the end of training): both estimators side by side. */
export function correlationBlock(m: Measured): CorrelationBlock {
  const K = m.outputs.length;
  return {
    exact: { c01: exactStat(m.exact.c01), c02: exactStat(m.exact.c02), c03: exactStat(m.exact.c03) },
    sampled: {
      perLayer: m.sampled.perLayer,
      setSize: m.sampled.setSize,
      total: m.sampled.total,
      seed: m.sampled.setSeed,
      c02: sampledStat(m.sampled.c02, m.samples, K),
      c03: sampledStat(m.sampled.c03, m.samples, K),
    },
  };
}

export function buildResult(args: {
  point: CorrelatePoint;
  spec: MlpSpec;
  theta0: Measured;
  atEnd: Measured | null;
  backend: { name: string; tfjsVersion: string; device?: string };
}): CorrelationResult {
  const r = resolveSpec(args.spec);
  const m = args.theta0;
  return {
    schema: CORRELATION_RESULT_ID,
    point: { ...args.point },
    model: modelDesc(r),
    eta: m.eta,
    samples: m.samples,
    outputs: m.outputs.length,
    ...correlationBlock(m),
    atEnd: args.atEnd ? correlationBlock(args.atEnd) : null,
    backend: args.backend,
  };
}
