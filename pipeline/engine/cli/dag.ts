// `dag`: the stage graph, with task counts.
import type { Command } from 'commander';
import { renderDag, type DagFormat } from '../dag-format.ts';
import { UsageError } from '../errors.ts';
import type { Project } from '../types.ts';
import { commonOptions, load, print, type CommonOpts } from './common.ts';

const FORMATS: readonly DagFormat[] = ['text', 'mermaid', 'dot'];
const isFormat = (f: string): f is DagFormat => (FORMATS as readonly string[]).includes(f);

export function dagCommand(program: Command, project: Project): void {
  commonOptions(program.command('dag'), project)
    .description('the stage graph, with task counts')
    .option('--format <fmt>', 'text | mermaid | dot', 'text')
    .action((o: CommonOpts & { format: string }) => {
      const format = o.format;
      if (!isFormat(format)) throw new UsageError(`--format ${format}: expected text, mermaid or dot`);
      const { graph } = load(project, o);
      print(o.json, graph.stages.map((s) => ({ stage: s.name, needs: (s.needs ?? []).map((n) => n.stage), tasks: graph.tasks.filter((t) => t.stage === s).length })),
        () => renderDag(graph, format, project.name));
    });
}
