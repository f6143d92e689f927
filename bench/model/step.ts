// ms per training step (net + linearization) for 784-n-n-10 GELU, batch 128, and the
// achieved GFLOP/s against a plain matmul peak measured in the same run.
//   node --import tsx bench/model/step.ts [--backend wasm] [--widths 256,1024,2048] [--batch 128] [--reps 7] [--taylor]
import { fileURLToPath } from 'node:url';
import { selectBackend, tf, type BackendKind } from '../../stages/model/backend.ts';
import { PairTrainer, disposeParams, hostToParams, initHostParams, type MlpSpec } from '../../stages/model/mlp.ts';
import { derivativeCorrelationsAsync } from '../../stages/model/taylor.ts';
import { medianMsAsync } from '../timing.ts';


export interface StepRow {
  width: number;
  peakGflops: number;
  netMs: number;
  linMs: number;
  pairMs: number;
  netGflops: number;
  linGflops: number;
  pairGflops: number;
  taylorMs?: number;
}

export async function benchSteps(opts: { backend?: BackendKind; widths?: number[]; batch?: number; reps?: number; taylor?: boolean } = {}): Promise<{ backend: string; rows: StepRow[] }> {
  const B = opts.batch ?? 128;
  const reps = opts.reps ?? 7;
  const info = await selectBackend(opts.backend ?? 'wasm', { log: () => {} });
  const rows: StepRow[] = [];
  for (const n of opts.widths ?? [256, 1024, 2048]) {
    // Peak: the step's dominant matmul shape, plain (fast) form.
    const a = tf.randomNormal([B, n]) as tf.Tensor2D;
    const W = tf.randomNormal([n, n]) as tf.Tensor2D;
    const mmMs = await medianMsAsync(reps, async () => {
      const c = tf.matMul(a, W);
      await c.data();
      c.dispose();
    });
    tf.dispose([a, W]);

    const spec: MlpSpec = { dIn: 784, width: n, depth: 2, activation: 'gelu', parameterization: 'standard' };
    const p0 = hostToParams(initHostParams(spec, 1));
    const tr = new PairTrainer(spec, p0, { lr: 0.1, batch: B });
    const x = tf.randomUniform([B, 784]) as tf.Tensor2D;
    const y = tf.randomUniform([B, 10]) as tf.Tensor2D;
    // Asynchronous reads: the only kind WebGPU has in Node (same cost on the CPU backends).
    const netMs = await medianMsAsync(reps, () => tr.stepNetAsync(x, y));
    const linMs = await medianMsAsync(reps, () => tr.stepLinAsync(x, y));
    // Matmul FLOPs: M = sum fanIn*fanOut, M0 = first layer (no input gradient, no da@W there).
    const M = 784 * n + n * n + n * 10;
    const M0 = 784 * n;
    const netFlop = 2 * B * (3 * M - M0);
    const linFlop = 2 * B * (5 * M - 2 * M0);
    const row: StepRow = {
      width: n, peakGflops: (2 * B * n * n) / mmMs / 1e6, netMs, linMs, pairMs: netMs + linMs,
      netGflops: netFlop / netMs / 1e6, linGflops: linFlop / linMs / 1e6, pairGflops: (netFlop + linFlop) / (netMs + linMs) / 1e6,
    };
    if (opts.taylor) {
      const xs = tf.randomUniform([160, 784]) as tf.Tensor2D;
      row.taylorMs = await medianMsAsync(Math.min(reps, 3), () => derivativeCorrelationsAsync(spec, p0, xs, { eta: 1, sampled: { perLayer: 60, seed: 0 } }));
      xs.dispose();
    }
    rows.push(row);
    tr.dispose();
    disposeParams(p0);
    tf.dispose([x, y]);
  }
  return { backend: `${info.name} on ${info.device} (tfjs ${info.tfjsVersion})`, rows };
}

// The suffix check keeps this block out of bundles (tools/gpu-pack.ts), where import.meta.url is the bundle's.
if (process.argv[1] && import.meta.url.endsWith('/bench/model/step.ts') && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string, def: string): string => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
  };
  const { backend, rows } = await benchSteps({
    backend: arg('backend', 'wasm') as BackendKind, widths: arg('widths', '256,1024,2048').split(',').map(Number),
    batch: Number(arg('batch', '128')), reps: Number(arg('reps', '7')), taylor: process.argv.includes('--taylor'),
  });
  console.log(`backend ${backend}`);
  console.table(rows);
}
