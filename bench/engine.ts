// Engine overhead on the toy project (test/engine/toy.ts) at 1k / 10k tasks (BENCH_ENGINE_SIZES,
// e.g. "1000,10000,100000"): a cold `run --jobs 2` (the parent's CPU per finished task; workers
// are other processes), then no-op `run` and `status`, all cached: CPU, wall and peak RSS of the
// command itself, measured in-process by bench/engine-probe.ts after the modules are loaded (the
// CLI's start-up is measured apart). BENCH_BASE=<checkout of main> runs the same commands with
// that engine on the same store, interleaved. Goals: no-op run and status under 2 s wall at 100k,
// under 1 GB; parent overhead under 0.5 ms of CPU per finished task. BENCH_ENGINE_JOBS: the cold
// run's --jobs (default 2; 1 on a shared machine). BENCH_REPS: no-op repetitions (default 3).
// BENCH_ENGINE_COLD_REPS: cold runs per engine (default 1), each on a fresh store; the base's cold
// run only up to BENCH_ENGINE_BASE_COLD_MAX tasks (default 10000: it costs ~20 ms a task).
// Stores are made in the OS temp folder (TMPDIR) and removed; with BENCH_ENGINE_KEEP=<folder>, this
// engine's store of each size is made in <folder>/toy-<tasks> and kept, and a store already there is
// reused for the no-ops without any cold run (a cold 100,000-task run takes many minutes).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeToy, REPO, toyAt } from '../test/engine/toy.ts';

interface Probe { code: number; wallMs: number; cpuMs: number; peakRssMB: number }

function probe(tree: string, toy: { dir: string; cache: string }, args: string[]): Probe {
  const out = path.join(os.tmpdir(), `engine-probe-${process.pid}.json`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'bench/engine-probe.ts'), tree, path.join(toy.dir, 'project.ts'), out, '--', ...args], {
    cwd: REPO, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, WEAKCORR_PROJECT: path.join(toy.dir, 'project.ts'), WEAKCORR_CACHE: toy.cache, CI: '1' },
  });
  if (r.status !== 0) throw new Error(`${tree}: ${args.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  const p = JSON.parse(fs.readFileSync(out, 'utf8')) as Probe;
  fs.rmSync(out, { force: true });
  return p;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

export async function benchEngine(): Promise<string[]> {
  const sizes = (process.env.BENCH_ENGINE_SIZES ?? '1000,10000').split(',').map(Number);
  const reps = Number(process.env.BENCH_REPS ?? 3);
  const jobs = Number(process.env.BENCH_ENGINE_JOBS ?? 2);
  const coldReps = Number(process.env.BENCH_ENGINE_COLD_REPS ?? 1);
  const baseColdMax = Number(process.env.BENCH_ENGINE_BASE_COLD_MAX ?? 10000);
  const trees: [string, string][] = [['this', REPO], ...(process.env.BENCH_BASE ? [['base', path.resolve(process.env.BENCH_BASE)] as [string, string]] : [])];
  const lines = [`load average ${load()}; medians of ${reps} (min–max), in-process (start-up excluded); cold runs: ${coldReps} each, on fresh stores`];
  const items = (n: number): number[] => Array.from({ length: Math.floor(n / 2) }, (_, i) => i);
  const keepIn = process.env.BENCH_ENGINE_KEEP ? path.resolve(process.env.BENCH_ENGINE_KEEP) : undefined;
  /** Per engine, the median cold CPU (ms) at each size run: the marginal cost per task is the slope between sizes. */
  const coldCpu = new Map<string, [number, number][]>();
  for (const n of sizes) {
    // Cold runs, each engine on a store of its own (interleaved); the last store of this engine is kept for the no-ops.
    const kept = keepIn && path.join(keepIn, `toy-${n + 1}`);
    let toy: ReturnType<typeof makeToy> | undefined = kept && fs.existsSync(path.join(kept, 'built')) ? toyAt(kept) : undefined;
    if (toy) lines.push(`${n + 1} tasks: the kept store ${toy.cache}, no cold run`);
    const colds = new Map<string, Probe[]>();
    try {
      for (let i = 0; i < coldReps && !(toy && kept); i++)
        for (const [name, tree] of trees) {
          if (name !== 'this' && n > baseColdMax) continue;
          const keep = name === 'this' && i === coldReps - 1;
          if (keep && kept) fs.rmSync(kept, { recursive: true, force: true }); // a store left unfinished
          const fresh = makeToy({ items: items(n), scale: 2 }, keep ? kept : undefined);
          try {
            colds.set(name, [...(colds.get(name) ?? []), probe(tree, fresh, ['run', '--jobs', String(jobs), '--json'])]);
            if (keep && kept) fs.writeFileSync(path.join(kept, 'built'), ''); // complete: reused next time
          } finally {
            if (keep) toy = fresh;
            else fs.rmSync(fresh.dir, { recursive: true, force: true });
          }
        }
      for (const [name, ps] of colds) {
        coldCpu.set(name, [...(coldCpu.get(name) ?? []), [n + 1, median(ps.map((p) => p.cpuMs))]]);
        const perTask = ps.map((p) => p.cpuMs / (n + 1));
        lines.push(`${n + 1} tasks: cold run --jobs ${jobs} ${name.padEnd(4)}: parent ${median(perTask).toFixed(2)} ms CPU per finished task (${perTask.map((x) => x.toFixed(2)).join(', ')}), ${(median(ps.map((p) => p.wallMs)) / 1000).toFixed(1)} s wall, peak ${median(ps.map((p) => p.peakRssMB)).toFixed(0)} MB; load ${load()}`);
      }
      // An engine answers a no-op from the plan its last complete run left (proven-plan.ts), under
      // a digest of its own files: engines that share a store replace each other's plan. So each
      // one's plan is kept aside and put back before it is measured (the store is otherwise the
      // same). 'planned' is this engine without that file: the first no-op after a change, which
      // plans in full and writes the plan again.
      const planFile = path.join(toy!.cache, 'index', 'default', 'plan.tsv');
      const ownPlan = (name: string): string => `${planFile}.${name}`;
      const probeOwn = (name: string, tree: string, cmd: string[]): Probe => {
        if (fs.existsSync(ownPlan(name))) fs.copyFileSync(ownPlan(name), planFile);
        const p = probe(tree, toy!, cmd);
        if (fs.existsSync(planFile)) fs.copyFileSync(planFile, ownPlan(name));
        return p;
      };
      // One no-op each first: a store built by one engine is indexed by the other on first use, and each writes its plan.
      for (const [name, tree] of trees) probeOwn(name, tree, ['run', '--json']);
      for (const cmd of [['run', '--json'], ['status']]) {
        const got = new Map<string, Probe[]>([...trees.map(([name]) => [name, []] as [string, Probe[]]), ['planned', []]]);
        for (let i = 0; i < reps; i++)
          for (const [name, tree] of trees) {
            got.get(name)!.push(probeOwn(name, tree, cmd));
            if (name !== 'this' || cmd[0] !== 'run') continue;
            for (const f of [planFile, ownPlan(name)]) fs.rmSync(f, { force: true });
            got.get('planned')!.push(probeOwn(name, tree, cmd));
          }
        got.forEach((ps, name) => ps.length || got.delete(name));
        for (const [name, ps] of got)
          lines.push(`${n + 1} tasks: no-op ${cmd[0]!.padEnd(6)} ${name.padEnd(7)}: CPU ${median(ps.map((p) => p.cpuMs)).toFixed(0)} ms (${spread(ps.map((p) => p.cpuMs))}), wall ${median(ps.map((p) => p.wallMs)).toFixed(0)} ms (${spread(ps.map((p) => p.wallMs))}), peak RSS ${median(ps.map((p) => p.peakRssMB)).toFixed(0)} MB (${spread(ps.map((p) => p.peakRssMB))}); load ${load()}`);
      }
      for (const [name] of trees) fs.rmSync(`${planFile}.${name}`, { force: true });
    } finally {
      if (toy && !kept) fs.rmSync(toy.dir, { recursive: true, force: true });
    }
  }
  // What one more task costs the parent, without the run's fixed part (the command's planning, a
  // fresh store's code fingerprints, starting workers), which a small run spreads over few tasks.
  for (const [name, pts] of coldCpu)
    for (let i = 1; i < pts.length; i++) {
      const [[n0, c0], [n1, c1]] = [pts[i - 1]!, pts[i]!];
      lines.push(`cold run ${name.padEnd(4)}: parent ${((c1 - c0) / (n1 - n0)).toFixed(2)} ms CPU per added task between ${n0} and ${n1} tasks (fixed part ${(c0 - (n0 * (c1 - c0)) / (n1 - n0)).toFixed(0)} ms)`);
    }
  return lines;
}
