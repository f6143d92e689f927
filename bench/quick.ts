// Cold `make report` of the default experiment: a fresh store, `--jobs 2`. Goal: under 20 minutes
// on a 2-core machine.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));

export function benchQuick(experiment = 'quick'): string[] {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-bench-quick-'));
  try {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), 'run', '--experiment', experiment, '--jobs', '2', '--json'], {
      encoding: 'utf8', maxBuffer: 256 << 20,
      env: { ...process.env, WEAKCORR_CACHE: path.join(tmp, 'store'), WEAKCORR_PUBLISH_ROOT: tmp, CI: '1' },
    });
    const wall = (Date.now() - t0) / 1000;
    if (r.status !== 0) return [`cold run of '${experiment}' failed (exit ${r.status}): ${r.stderr.slice(-2000)}`];
    const s = JSON.parse(r.stdout) as { executed: number; tasks: { id: string; durationMs?: number }[] };
    const byStage = new Map<string, { n: number; ms: number }>();
    for (const t of s.tasks) {
      const st = t.id.split('@')[0]!;
      const e = byStage.get(st) ?? { n: 0, ms: 0 };
      byStage.set(st, { n: e.n + 1, ms: e.ms + (t.durationMs ?? 0) });
    }
    return [
      `cold run of '${experiment}' with --jobs 2: ${(wall / 60).toFixed(1)} min wall (${s.executed} tasks executed)`,
      ...[...byStage].map(([st, e]) => `  ${st.padEnd(10)} ${String(e.n).padStart(4)} task(s), ${(e.ms / 1000).toFixed(0)} s of task time`),
    ];
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
