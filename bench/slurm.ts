// SLURM executor costs on the single-node test cluster (bash .ci/slurm.sh up):
//  - scheduling overhead per task beyond its own run time: 8 independent trivial toy tasks,
//    2 at a time, local workers vs SLURM jobs, interleaved, medians of 3;
//  - planning and submitting the full paper-a2 DAG (7,000+ tasks) as held arrays, then
//    cancelling them; and its --dry-run.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeToy, REPO } from '../test/engine/toy.ts';
import { median } from './timing.ts';

const sec = (t0: number): number => (performance.now() - t0) / 1000;

function clusterUp(): boolean {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
  return r.status === 0 && /idle|mix|alloc/.test(r.stdout);
}

/** Per-task scheduling overhead: the same toy DAG through local workers and through SLURM. */
export async function benchSlurmOverhead(reps = 3): Promise<string[]> {
  if (!clusterUp()) return ['skipped: no SLURM cluster answers (bash .ci/slurm.sh up)'];
  const out: string[] = [];
  const n = 8;
  const local: number[] = [];
  const slurm: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const kind of ['local', 'slurm'] as const) {
      const toy = makeToy({ items: Array.from({ length: n }, (_, i) => i + 1), scale: 2 });
      try {
        const t0 = performance.now();
        const r = toy.cli(['run', 'gen', '--jobs', '2', ...(kind === 'slurm' ? ['--executor', 'slurm'] : [])]);
        if (r.code !== 0) throw new Error(r.stderr);
        (kind === 'local' ? local : slurm).push(sec(t0));
      } finally {
        fs.rmSync(toy.dir, { recursive: true, force: true });
      }
    }
  }
  const lanes = n / 2;
  out.push(`${n} trivial tasks, 2 at a time (medians of ${reps}, interleaved): local ${median(local).toFixed(2)} s [${local.map((v) => v.toFixed(2)).join(', ')}], SLURM ${median(slurm).toFixed(2)} s [${slurm.map((v) => v.toFixed(2)).join(', ')}]`);
  const per = slurm.map((v, i) => (v - local[i]!) / lanes).sort((a, b) => a - b);
  out.push(`scheduling overhead per task through SLURM (goal < 2 s): ${((median(slurm) - median(local)) / lanes).toFixed(2)} s (per pair: min ${per[0]!.toFixed(2)}, max ${per.at(-1)!.toFixed(2)})`);
  return out;
}

export async function benchSlurm(): Promise<string[]> {
  if (!clusterUp()) return ['skipped: no SLURM cluster answers (bash .ci/slurm.sh up)'];
  const out = await benchSlurmOverhead();

  // The full paper-a2 DAG: datasets into a fresh store first, then plan + submit held arrays.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-bench-slurm-'));
  const env = { ...process.env, WEAKCORR_CACHE: path.join(tmp, 'store'), WEAKCORR_PUBLISH_ROOT: tmp, CI: '1' };
  const cli = (args: string[]) => spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), ...args], { env, encoding: 'utf8', maxBuffer: 256 << 20 });
  try {
    if (cli(['run', 'fetch', '--experiment', 'paper-a2']).status !== 0) throw new Error('fetch failed (set WEAKCORR_DATA_MIRROR)');
    const dry: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = cli(['run', '--experiment', 'paper-a2', '--executor', 'slurm', '--dry-run']);
      if (r.status !== 0) throw new Error(r.stderr);
      dry.push(sec(t0));
    }
    out.push(`paper-a2 --executor slurm --dry-run (goal < 5 s): median ${median(dry).toFixed(2)} s [${dry.map((v) => v.toFixed(2)).join(', ')}]`);
    const manifests = path.join(tmp, 'store/slurm/tasks');
    const t0 = performance.now();
    const child = spawn(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), 'run', '--experiment', 'paper-a2', '--executor', 'slurm', '--sbatch=--hold'], { env, stdio: 'ignore' });
    let submitted = 0;
    while (submitted < 7000) {
      await new Promise((r) => setTimeout(r, 200));
      submitted = fs.existsSync(manifests) ? fs.readdirSync(manifests).length : 0;
      if (sec(t0) > 300) break;
    }
    const submitS = sec(t0);
    out.push(`paper-a2: plan + submit ${submitted} train-a2 tasks as held arrays (goal < 30 s): ${submitS.toFixed(1)} s`);
    const t1 = performance.now();
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    out.push(`Ctrl-C: cancelled them all in ${sec(t1).toFixed(1)} s; queue now holds ${spawnSync('squeue', ['-h', '-r'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length} job(s)`);
  } finally {
    // Only this benchmark's arrays: the cluster may be shared with other runs.
    const dir = path.join(tmp, 'store/slurm/tasks');
    const arrays = new Set(fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => (JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { jobId: string }).jobId.split('_')[0]!) : []);
    if (arrays.size) spawnSync('scancel', [...arrays]);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
