// Provenance of a report: git state, package versions, runtime, and task timings from lineage.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { shell } from '../../pipeline/engine/shell.ts';
import type { LineageEntry } from '../../pipeline/engine/types.ts';
import type { StageTiming } from '../page/types.ts';

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);

/** The checkout's commit, whether tracked files differ from it, and its branch; "unknown" outside a checkout (or without git). */
export async function gitState(root = ROOT): Promise<{ commit: string; dirty: boolean; branch: string | null }> {
  // nothrow: a failing git (no checkout here, no git installed) is an expected answer, not an error.
  const $ = await shell({ cwd: root, nothrow: true });
  const [commit, status, branch] = await Promise.all([$`git rev-parse HEAD`, $`git status --porcelain --untracked-files=no`, $`git rev-parse --abbrev-ref HEAD`]);
  if (!commit.ok || !status.ok || !branch.ok) return { commit: 'unknown (not a git checkout)', dirty: false, branch: null };
  return { commit: commit.stdout.trim(), dirty: status.stdout.trim() !== '', branch: branch.stdout.trim() };
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

/**
 * Upstream tasks per stage. Only counts: when and where tasks ran, and whether this run or an
 * earlier one computed them, live in the task records (`weakcorr show`), never in the report, so
 * identical work writes an identical report.
 */
export function stageCounts(lineage: readonly LineageEntry[]): StageTiming[] {
  const by = new Map<string, StageTiming>();
  for (const l of lineage) {
    const s = by.get(l.stage) ?? { stage: l.stage, tasks: 0 };
    s.tasks! += 1;
    by.set(l.stage, s);
  }
  return [...by.values()];
}
