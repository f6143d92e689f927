// `show`: a task's record and artifact paths.
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { EXECUTORS } from '../executors/registry.ts';
import type { Project } from '../types.ts';
import { commonOptions, executorOption, inspectOne, print, type CommonOpts } from './common.ts';

export function showCommand(program: Command, project: Project): void {
  executorOption(commonOptions(program.command('show').argument('<task>', 'task id'), project), project)
    .description("a task's record and artifact paths")
    .action(async (id: string, o: CommonOpts & { executor?: string }) => {
      const { planner, mine: st } = await inspectOne(project, o, id);
      const key = st.key ?? (await planner.store.index.key(planner.experiment, id));
      const record = key ? await planner.store.records.read(key) : undefined;
      if (!record) {
        const ownKey = st.key;
        const job = ownKey ? EXECUTORS.map((e) => e.lastJob?.(planner.store, ownKey)).find((j) => j !== undefined) : undefined;
        throw new UsageError(`task '${id}' has no record yet (${st.state}: ${st.reasons.join('; ')}); run it first${job ? `; ${job}` : ''}`);
      }
      const artifacts = Object.fromEntries(Object.entries(record.outputs).map(([n, o2]) => [n, planner.store.blobs.path(o2.hash)]));
      const logs = record.logs ?? [];
      print(o.json, { state: st.state, record, artifacts }, () =>
        [`state    ${st.state}${st.state !== 'cached' ? ` (showing the last record: ${st.reasons.join('; ')})` : ''}`,
          `record   ${planner.store.records.where(record.key)}`,
          ...Object.entries(artifacts).map(([n, p]) => `output   ${n}: ${p}`),
          `ran      ${record.startedAt} for ${(record.durationMs / 1000).toFixed(1)}s on ${record.host}`,
          ...(record.executor ? [`job      ${record.executor.kind} ${record.executor.jobId}, log ${record.executor.log}`] : []),
          `params   ${JSON.stringify(record.params)}`,
          `runtime  ${JSON.stringify(record.runtime)}`,
          ...(logs.length ? ['log', ...logs.slice(-20).map((l) => `  ${l}`)] : [])].join('\n'));
    });
}
