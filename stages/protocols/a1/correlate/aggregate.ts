// Aggregates of per-(sample, output) correlation values, and their JSON form. No tfjs.
import type { CorrelationBlock } from '../../../contracts/correlation-result.ts';
import { rmsOf } from '../../../model/rms.ts';

/**
 * The paper's Eq. 25 aggregate exactly as printed:
 *   (1/S) sqrt( (1/d_y) sum_i sum_{x in X} value(x, i)^2 ),  S = |X|, d_y = number of outputs,
 * for `values` row-major [S][d_y]. Equals rms / sqrt(S).
 */
export function eq25Aggregate(values: ArrayLike<number>, samples: number, outputs: number): number {
  if (values.length !== samples * outputs)
    throw new Error(`eq25Aggregate: ${values.length} values, expected ${samples} samples x ${outputs} outputs`);
  let s = 0;
  for (let k = 0; k < values.length; k++) s += values[k] * values[k];
  return Math.sqrt(s / outputs) / samples;
}

/** A JSON number: 7 significant digits (the values are float32 results), null if not finite. */
export function jsonNumber(v: number): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(7)) : null;
}

export function jsonNumbers(v: ArrayLike<number>): (number | null)[] {
  return Array.from(v, jsonNumber);
}

/** { rms, perSample } for an exact correlation. */
export function exactStat(v: ArrayLike<number>): CorrelationBlock['exact']['c01'] {
  return { rms: jsonNumber(rmsOf(v)), perSample: jsonNumbers(v) };
}

/** { eq25, rms, perSample } for a sampled-estimator correlation. */
export function sampledStat(v: ArrayLike<number>, samples: number, outputs: number): CorrelationBlock['sampled']['c02'] {
  return { eq25: jsonNumber(eq25Aggregate(v, samples, outputs)), rms: jsonNumber(rmsOf(v)), perSample: jsonNumbers(v) };
}
