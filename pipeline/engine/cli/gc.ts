// `gc`: delete blobs no task record references and leftovers of interrupted writes; with --keep,
// also every record no kept experiment needs. Each executor sweeps its own files (its gc hook).
import type { Command } from 'commander';
import { EXECUTORS } from '../executors/registry.ts';
import type { Flags } from '../executors/kind.ts';
import { collectGarbage, type GcReport } from '../gc.ts';
import { inspectTasks } from '../inspect.ts';
import type { Store } from '../store.ts';
import type { Project } from '../types.ts';
import { loadNamed, plannerFor, print, storeFor } from './common.ts';

async function keysToKeep(project: Project, store: Store, names: string[]): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const name of names) {
    const { graph, variant } = loadNamed(project, store, name);
    const planner = await plannerFor(project, variant, graph.tasks, 'read', store);
    for (const st of await inspectTasks(planner, graph.tasks)) if (st.state === 'cached' && st.key) keep.add(st.key);
  }
  return keep;
}

function gcText(r: GcReport, dir: string, keeping: boolean): string {
  const mb = (r.removedBytes / 1e6).toFixed(1);
  const lines: string[] = [];
  const records = keeping || r.removedRecords ? ` and ${r.removedRecords} record(s)` : '';
  const logs = r.removedLogs ? `, ${r.removedLogs} task log(s)` : '';
  const probes = r.removedProbes ? `, ${r.removedProbes} outdated probe answer(s)` : '';
  const executors = `${logs}${probes}${r.extra.summary.join('')}`;
  if (r.dryRun) {
    lines.push(...r.removed.map((p) => (r.what[p] ? `would remove ${r.what[p]}: ${p}` : `would remove ${p}`)));
    lines.push(`gc --dry-run: would remove ${r.removedBlobs} blob(s) (${mb} MB), ${r.removedTmp} temp file(s)${records}${executors}; would keep ${r.keptBlobs} blob(s) in ${dir}`);
  } else if (!r.blockedBy.length) {
    lines.push(`gc: removed ${r.removedBlobs} blob(s) (${mb} MB), ${r.removedTmp} temp file(s)${records}${executors}; kept ${r.keptBlobs} blob(s) in ${dir}`);
  }
  for (const note of r.extra.notes) lines.push(`gc: ${note}`);
  if (r.blockedBy.length)
    lines.push(`gc: ${r.blockedBy.length} run(s) in progress on this store (${r.blockedBy.map((l) => `pid ${l.pid} on ${l.host} since ${l.startedAt}`).join(', ')}): nothing removed${r.dryRun ? '' : '; run gc again when they end'}`);
  return lines.join('\n');
}

export function gcCommand(program: Command, project: Project): void {
  let cmd = program
    .command('gc')
    .description('delete blobs that no task record references, and leftovers of interrupted writes; with --keep, also every record no kept experiment needs')
    .option('--keep <experiment...>', 'keep only what these experiments (or variants) use now')
    .option('-n, --dry-run', 'print what would be removed, remove nothing');
  for (const e of EXECUTORS) cmd = e.gcOptions?.(cmd) ?? cmd;
  cmd
    .option('--json', 'machine-readable output on stdout')
    .action(async (o: { keep?: string[]; dryRun?: boolean; json?: boolean } & Flags) => {
      const store = await storeFor(project, o.dryRun ? 'read' : 'write');
      const names = o.keep;
      const keep = names
        ? async () => {
            const keys = await keysToKeep(project, store, names);
            return (rec: { key: string }) => keys.has(rec.key);
          }
        : undefined;
      const hooks = EXECUTORS.flatMap((e) => (e.gc ? [e.gc(o)] : []));
      const r = await collectGarbage(store, { dryRun: o.dryRun, hooks, ...(keep ? { keep } : {}) });
      const fate = o.dryRun || r.blockedBy.length ? 'gc will set it aside' : `set aside in ${store.area('quarantine')}/`;
      for (const bad of r.badRecords) process.stderr.write(`warning: invalid task record ${bad}; ${fate}\n`);
      const { extra: _, ...json } = r;
      print(o.json, json, () => gcText(r, store.dir, names !== undefined));
    });
}
