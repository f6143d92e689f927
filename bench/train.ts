// Training-step speed: weakcorr (tfjs, best CPU backend) against the same explicit algorithm in
// PyTorch CPU with the same thread count (bench/torch/step_bench.py). Goal: within 1.5x.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchSteps } from './model/step.ts';

const SCRIPT = fileURLToPath(new URL('./torch/step_bench.py', import.meta.url));

export interface TorchRow {
  width: number;
  net_ms: number;
  lin_ms: number;
  pair_ms: number;
  matmul_gflops: number;
}

export function torchSteps(widths: number[], threads = 1): { rows: TorchRow[] } | { skipped: string } {
  if (!existsSync('/usr/bin/python3')) return { skipped: '/usr/bin/python3 not found' };
  const r = spawnSync('/usr/bin/python3', [SCRIPT, String(threads), ...widths.map(String)], {
    encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
  });
  if (r.status !== 0) return { skipped: `PyTorch not usable: ${r.stderr.trim().split('\n').at(-1)}` };
  return { rows: r.stdout.trim().split('\n').map((l) => JSON.parse(l) as TorchRow) };
}

export async function benchTrain(widths = [256, 1024, 2048]): Promise<string[]> {
  const ours = await benchSteps({ widths });
  const torch = torchSteps(widths, 1);
  const lines = [`backend ${ours.backend}, batch 128, 784-n-n-10 GELU, median of 7; PyTorch: 1 thread (wasm is single-threaded), OpenBLAS`];
  lines.push('width | matmul peak GFLOP/s | net ms | lin ms | pair ms | pair GFLOP/s (% of peak) | PyTorch pair ms | PyTorch matmul GFLOP/s | ratio ours/PyTorch');
  for (const r of ours.rows) {
    const t = 'rows' in torch ? torch.rows.find((x) => x.width === r.width) : undefined;
    lines.push([
      r.width, r.peakGflops.toFixed(1), r.netMs.toFixed(1), r.linMs.toFixed(1), r.pairMs.toFixed(1),
      `${r.pairGflops.toFixed(1)} (${((100 * r.pairGflops) / r.peakGflops).toFixed(0)}%)`,
      t ? t.pair_ms.toFixed(1) : '-', t ? t.matmul_gflops.toFixed(0) : '-', t ? (r.pairMs / t.pair_ms).toFixed(2) : '-',
    ].join(' | '));
  }
  if ('skipped' in torch) lines.push(`PyTorch comparison skipped: ${torch.skipped}`);
  return lines;
}
