// `why`: the components of a task's cache key.
import type { Command } from 'commander';
import type { Project } from '../types.ts';
import { commonOptions, executorOption, inspectOne, print, type CommonOpts } from './common.ts';

export function whyCommand(program: Command, project: Project): void {
  executorOption(commonOptions(program.command('why').argument('<task>', 'task id, e.g. train-a1@mnist,relu,L1,w64,s2'), project), project)
    .description("the components of a task's cache key")
    .action(async (id: string, o: CommonOpts & { executor?: string }) => {
      const { task, planner, st, mine } = await inspectOne(project, o, id);
      const code = await planner.stageCode(task.stage);
      const info: Record<string, unknown> = {
        id: task.id,
        stage: task.stage.name,
        state: mine.state,
        reasons: mine.reasons,
        axes: task.axes,
        params: task.params,
        code: code.code,
        files: code.files,
        runtime: await planner.stageRuntime(task.stage),
      };
      if (mine.components) {
        info.inputs = mine.components().inputs;
        info.key = mine.key;
      } else {
        const notReady = task.deps.filter((d) => st.find((s) => s.id === d.id)?.state !== 'cached');
        info.inputs = `unknown until ${notReady.map((d) => d.id).join(', ')} are rebuilt`;
      }
      print(o.json, info, () => Object.entries(info).map(([k, v]) => `${k.padEnd(9)}${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}`).join('\n'));
    });
}
