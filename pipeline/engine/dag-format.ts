// The stage graph as text, Mermaid or Graphviz dot. A conditional need (`when`) is drawn dashed.
import type { TaskGraph } from './graph.ts';

export type DagFormat = 'text' | 'mermaid' | 'dot';

export function renderDag(graph: TaskGraph, format: DagFormat, name: string): string {
  const count = (name: string): number => graph.tasks.filter((t) => t.stage.name === name).length;
  const edges = graph.stages.flatMap((s) => (s.needs ?? []).map((n) => ({ from: n.stage, to: s.name, when: n.when })));
  const id = (s: string): string => s.replace(/-/g, '_');
  if (format === 'mermaid')
    return ['graph LR', ...graph.stages.map((s) => `  ${id(s.name)}["${s.name} (${count(s.name)})"]`),
      ...edges.map((e) => (e.when ? `  ${id(e.from)} -. "when ${e.when}" .-> ${id(e.to)}` : `  ${id(e.from)} --> ${id(e.to)}`))].join('\n');
  if (format === 'dot')
    return [`digraph ${/^[A-Za-z_]\w*$/.test(name) ? name : JSON.stringify(name)} {`, '  rankdir=LR;', ...graph.stages.map((s) => `  "${s.name}" [label="${s.name}\\n${count(s.name)} task(s)"];`),
      ...edges.map((e) => `  "${e.from}" -> "${e.to}"${e.when ? ` [style=dashed, label="when ${e.when}"]` : ''};`), '}'].join('\n');
  const rows = graph.stages.map((s) => [
    s.name,
    `${count(s.name)} task(s)`,
    s.needs?.length ? `<- ${s.needs.map((n) => (n.when ? `${n.stage} (when ${n.when})` : n.stage)).join(', ')}` : '',
    s.description ?? '',
  ]);
  const width = (i: number): number => Math.max(...rows.map((r) => r[i]!.length));
  const [w0, w1, w2] = [width(0), width(1), width(2)];
  return rows.map(([stage, tasks, needs, description]) => `${stage!.padEnd(w0)}  ${tasks!.padStart(w1)}  ${needs!.padEnd(w2)}  ${description}`.trimEnd()).join('\n');
}
