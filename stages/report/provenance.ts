// Provenance of a report: git state, package versions, runtime, and task timings from lineage.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LineageEntry } from '../../pipeline/engine/types.ts';
import type { StageTiming } from './html.ts';
import type { TimelineRow } from './render-svg.ts';

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);

export function gitState(root = ROOT): { commit: string; dirty: boolean; branch: string | null } {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--untracked-files=no') !== '', branch: git('rev-parse', '--abbrev-ref', 'HEAD') };
  } catch {
    return { commit: 'unknown (not a git checkout)', dirty: false, branch: null };
  }
}

const PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'vega', 'vega-lite', 'vega-embed', 'ajv', 'esbuild', 'tsx'];

export function packageVersions(root = ROOT): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  for (const p of PACKAGES) {
    try {
      out[p] = (JSON.parse(readFileSync(path.join(root, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      out[p] = 'not installed';
    }
  }
  return out;
}

export function hostRuntime(): Record<string, string> {
  const cpus = os.cpus();
  return {
    host: os.hostname(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: `${cpus.length} x ${cpus[0]?.model ?? 'unknown'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  };
}

/** Per stage: tasks, how many ran in the run that built the report, and summed compute time. */
export function stageTimings(lineage: readonly LineageEntry[]): StageTiming[] {
  const by = new Map<string, StageTiming>();
  for (const l of lineage) {
    const s = by.get(l.stage) ?? { stage: l.stage, wallSeconds: 0, tasks: 0, executed: 0, cached: 0 };
    s.wallSeconds += l.durationMs / 1000;
    s.tasks! += 1;
    if (l.ranThisRun) s.executed! += 1;
    else s.cached! += 1;
    by.set(l.stage, s);
  }
  return [...by.values()];
}

/** Task intervals in seconds from the earliest start (tasks may come from several runs). */
export function timeline(lineage: readonly LineageEntry[]): TimelineRow[] {
  if (lineage.length === 0) return [];
  const t0 = Math.min(...lineage.map((l) => Date.parse(l.startedAt)));
  return lineage.map((l) => ({
    stage: l.stage, task: l.id,
    start: (Date.parse(l.startedAt) - t0) / 1000, end: (Date.parse(l.endedAt) - t0) / 1000,
    status: l.ranThisRun ? 'executed' : 'cached',
  }));
}
