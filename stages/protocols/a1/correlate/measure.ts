// The measurement itself (loads tfjs: import this module only inside a worker's run()).
// Exact C^{0,1..3} by Taylor mode and the paper's sampled estimator (Eq. 25) with exact
// derivatives, both from stages/model/taylor.ts, over X in blocks of samples (progress and
// abort between blocks; every (sample, output) row is computed independently, so blocking
// does not change the values).
import { InterruptedError } from '../../../../pipeline/engine/errors.ts';
import { tf } from '../../../model/backend.ts';
import { yieldToEventLoop } from '../../../model/yield.ts';
import { disposeParams, hostToParams, initHostParams, resolveSpec, type HostLayer, type MlpSpec } from '../../../model/mlp.ts';
import { derivativeCorrelationsAsync, taylorBytesPerRow } from '../../../model/taylor.ts';

export interface MeasureOptions {
  /** learning rate eta in C^{0,d} = (eta^d / d!) d^d/dt^d f_i(theta + t g) */
  eta: number;
  /** |D_l|: indices drawn per layer for the sampled estimator */
  perLayer: number;
  /** seed of the index set D (sampleParameterSet) */
  setSeed: number;
  /** outputs i (default all) */
  outputs?: number[];
  /** samples per block (default: the library's chunk size, about 256 MiB of temporaries) */
  block?: number;
  progress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface Measured {
  samples: number;
  outputs: number[];
  eta: number;
  /** row-major [sample][output] */
  exact: { c01: Float64Array; c02: Float64Array; c03: Float64Array };
  sampled: {
    perLayer: number;
    setSeed: number;
    /** |D_l| per layer l = 0..L (min(perLayer, N_l)) */
    setSize: number[];
    /** |D| = sum_l |D_l| */
    total: number;
    /** (1/|D|^d) sum_{a_1..a_d in D} g_a1 .. g_ad d_a1..d_ad f_i(x): the bracket of Eq. 25, no eta */
    c02: Float64Array;
    c03: Float64Array;
  };
}

/** theta0: the parameters train-a1 starts from (initHostParams: same spec and seed, same bits). */
export function theta0(spec: MlpSpec, seed: number): HostLayer[] {
  return initHostParams(spec, seed);
}

/** Default block: the number of samples whose Taylor temporaries take about 256 MiB. */
export function defaultBlock(spec: MlpSpec, outputs: number): number {
  return Math.max(1, Math.floor((256 * 1024 ** 2) / (outputs * taylorBytesPerRow(spec))));
}

export async function measureCorrelations(spec: MlpSpec, host: readonly HostLayer[], x: Float32Array, opts: MeasureOptions): Promise<Measured> {
  const r = resolveSpec(spec);
  if (x.length % r.dIn !== 0) throw new Error(`measureCorrelations: ${x.length} input values do not divide into rows of ${r.dIn}`);
  const S = x.length / r.dIn;
  const outputs = opts.outputs ?? Array.from({ length: r.dOut }, (_, i) => i);
  const K = outputs.length;
  const block = Math.max(1, Math.min(S, opts.block ?? defaultBlock(r, K)));
  const exact = { c01: new Float64Array(S * K), c02: new Float64Array(S * K), c03: new Float64Array(S * K) };
  const sc02 = new Float64Array(S * K);
  const sc03 = new Float64Array(S * K);
  let setSize: number[] = [];
  let total = 0;
  const params = hostToParams(host);
  try {
    for (let s0 = 0; s0 < S; s0 += block) {
      await yieldToEventLoop();
      if (opts.signal?.aborted) throw new InterruptedError('correlate: interrupted');
      const cb = Math.min(block, S - s0);
      const xb = tf.tensor2d(x.subarray(s0 * r.dIn, (s0 + cb) * r.dIn), [cb, r.dIn], 'float32');
      try {
        const res = await derivativeCorrelationsAsync(r, params, xb, { eta: opts.eta, outputs, chunk: cb, sampled: { perLayer: opts.perLayer, seed: opts.setSeed } });
        exact.c01.set(res.c01, s0 * K);
        exact.c02.set(res.c02, s0 * K);
        exact.c03.set(res.c03, s0 * K);
        const sm = res.sampled!;
        sc02.set(sm.c02, s0 * K);
        sc03.set(sm.c03, s0 * K);
        setSize = sm.set.layers.map((l) => l.p.length + l.bq.length);
        total = sm.set.size;
      } finally {
        xb.dispose();
      }
      opts.progress?.(s0 + cb, S);
    }
  } finally {
    disposeParams(params);
  }
  return { samples: S, outputs, eta: opts.eta, exact, sampled: { perLayer: opts.perLayer, setSeed: opts.setSeed, setSize, total, c02: sc02, c03: sc03 } };
}
