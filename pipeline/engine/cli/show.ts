// `show`: a task's record and artifact paths.
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { EXECUTORS } from '../executors/registry.ts';
import { formatBytes } from '../task-log.ts';
import type { Project } from '../types.ts';
import { commonOptions, executorOption, inspectOne, print, type CommonOpts } from './common.ts';

export function showCommand(program: Command, project: Project): void {
  executorOption(commonOptions(program.command('show').argument('<task>', 'task id'), project), project)
    .description("a task's record (timings, CPU seconds, peak RSS, last log lines), its artifact paths and its log file")
    .action(async (id: string, o: CommonOpts & { executor?: string }) => {
      const { planner, mine: st } = await inspectOne(project, o, id);
      const key = st.key ?? (await planner.store.index.key(planner.experiment, id));
      const record = key ? await planner.store.records.read(key) : undefined;
      if (!record) {
        const ownKey = st.key;
        const job = ownKey ? EXECUTORS.map((e) => e.lastJob?.(planner.store, ownKey)).find((j) => j !== undefined) : undefined;
        // A run that failed left its log (and no record).
        const failedLog = ownKey && planner.store.logs.exists(ownKey) ? `; its last run failed, log ${planner.store.logs.path(ownKey)}` : '';
        throw new UsageError(`task '${id}' has no record yet (${st.state}: ${st.reasons.join('; ')}); run it first${failedLog}${job ? `; ${job}` : ''}`);
      }
      const artifacts = Object.fromEntries(Object.entries(record.outputs).map(([n, o2]) => [n, planner.store.blobs.path(o2.hash)]));
      const logs = record.logs ?? [];
      const logFile = planner.store.logs.exists(record.key) ? planner.store.logs.path(record.key) : null;
      const r = record.resources;
      const cost = r
        ? `cpu      ${r.cpuS.toFixed(2)}s (user ${r.userS.toFixed(2)}s, system ${r.sysS.toFixed(2)}s${r.childCpuS ? `, child processes ${r.childCpuS.toFixed(2)}s` : ''}), peak rss ${formatBytes(r.peakRssBytes)}${r.peakRssScope === 'process' ? " (the process's peak over its life: an upper bound)" : ''}`
        : 'cpu      not measured (an older record, or an executor that does not measure)';
      print(o.json, { state: st.state, record, artifacts, log: logFile }, () =>
        [`state    ${st.state}${st.state !== 'cached' ? ` (showing the last record: ${st.reasons.join('; ')})` : ''}`,
          `record   ${planner.store.records.where(record.key)}`,
          ...Object.entries(artifacts).map(([n, p]) => `output   ${n}: ${p}`),
          `ran      ${record.startedAt} for ${(record.durationMs / 1000).toFixed(1)}s on ${record.host}`,
          cost,
          ...(record.executor ? [`job      ${record.executor.kind} ${record.executor.jobId}, log ${record.executor.log}`] : []),
          `params   ${JSON.stringify(record.params)}`,
          `runtime  ${JSON.stringify(record.runtime)}`,
          `log file ${logFile ?? '(none: an older record, or an executor that writes none)'}`,
          ...(logs.length ? [`log${logs.length > 20 ? ` (last 20 of ${logs.length} lines in the record)` : ''}`, ...logs.slice(-20).map((l) => `  ${l}`)] : [])].join('\n'));
    });
}
