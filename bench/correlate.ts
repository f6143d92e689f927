// Cost of the correlate stage per network, against plain backprop, both batched, same run:
//   ratio = (ms per (x, i) pair of the correlate measurement: exact C^{0,1..3} + the sampled
//            estimator, 160 samples x 10 outputs)
//         / (ms of one forward + backward pass per sample: batched VJP of 160 samples / 160)
// for 784-n-n-10 ReLU (NTK), n = 256, 1024, 4096. Goal: ratio under 3.
//   node --import tsx bench/correlate.ts [--widths 256,1024,4096]
import { pathToFileURL } from 'node:url';
import { parseBackendKind } from '../stages/model/backend-choice.ts';
import { selectBackend, tf } from '../stages/model/backend.ts';
import { disposeParams, hostToParams, initHostParams, vjp, type MlpSpec } from '../stages/model/mlp.ts';
import { measureCorrelations } from '../stages/protocols/a1/correlate/measure.ts';
import { medianMs, medianMsAsync } from './timing.ts';

const SAMPLES = 160;
const OUTPUTS = 10;


/** Rows per width: correlate ms per network, ms per (x, i) pair, fwd+bwd ms per sample, ratio. */
export async function benchCorrelate(widths: readonly number[] = [256, 1024, 4096]): Promise<Record<string, number>> {
  const info = await selectBackend(parseBackendKind(process.env.WEAKCORR_BACKEND), { log: () => {} });
  console.log(`correlate bench: backend ${info.name}, tfjs ${info.tfjsVersion}, depth 2, ${SAMPLES} samples x ${OUTPUTS} outputs, |D_l| = 60, median of runs`);
  const out: Record<string, number> = {};
  for (const n of widths) {
    const spec: MlpSpec = { dIn: 784, width: n, depth: 2, activation: 'relu', parameterization: 'ntk' };
    const host = initHostParams(spec, 0);
    const xt = tf.randomNormal([SAMPLES, 784], 0, 1, 'float32', 7) as tf.Tensor2D;
    const x = xt.dataSync() as Float32Array;
    const p = hostToParams(host);
    const cot = tf.randomNormal([SAMPLES, OUTPUTS], 0, 1, 'float32', 8) as tf.Tensor2D;
    const fwdBwd = (): void => {
      const g = vjp(spec, p, xt, cot);
      for (const l of g) {
        l.W.dataSync();
        l.b.dataSync();
      }
      disposeParams(g);
    };
    const measure = (rows: Float32Array): Promise<unknown> => measureCorrelations(spec, host, rows, { eta: 1, perLayer: 60, setSeed: 1 });
    fwdBwd(); // warm-up
    await measure(x.subarray(0, 8 * 784));
    const big = n >= 4096;
    const fbMs = medianMs(big ? 3 : 7, fwdBwd, 0); // warmed up above
    const netMs = await medianMsAsync(big ? 2 : 3, () => measure(x), 0);
    const pairMs = netMs / (SAMPLES * OUTPUTS);
    const sampleMs = fbMs / SAMPLES;
    out[`w${n} correlate ms per network`] = netMs;
    out[`w${n} correlate ms per (x,i) pair`] = pairMs;
    out[`w${n} fwd+bwd ms per sample`] = sampleMs;
    out[`w${n} ratio (goal < 3)`] = pairMs / sampleMs;
    disposeParams(p);
    tf.dispose([xt, cot]);
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--widths');
  const widths = i >= 0 ? process.argv[i + 1].split(',').map(Number) : undefined;
  const r = await benchCorrelate(widths);
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(42)} ${v.toFixed(v < 1 ? 4 : 2)}`);
}
