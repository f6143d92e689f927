// The stage graph as text, Mermaid or Graphviz dot.
import type { TaskGraph } from './graph.ts';

export type DagFormat = 'text' | 'mermaid' | 'dot';

export function renderDag(graph: TaskGraph, format: DagFormat, name: string): string {
  const count = (name: string): number => graph.tasks.filter((t) => t.stage.name === name).length;
  const edges = graph.stages.flatMap((s) => (s.needs ?? []).map((n) => [n.stage, s.name] as const));
  if (format === 'mermaid')
    return ['graph LR', ...graph.stages.map((s) => `  ${s.name.replace(/-/g, '_')}["${s.name} (${count(s.name)})"]`),
      ...edges.map(([a, b]) => `  ${a.replace(/-/g, '_')} --> ${b.replace(/-/g, '_')}`)].join('\n');
  if (format === 'dot')
    return [`digraph ${/^[A-Za-z_]\w*$/.test(name) ? name : JSON.stringify(name)} {`, '  rankdir=LR;', ...graph.stages.map((s) => `  "${s.name}" [label="${s.name}\\n${count(s.name)} task(s)"];`),
      ...edges.map(([a, b]) => `  "${a}" -> "${b}";`), '}'].join('\n');
  return graph.stages
    .map((s) => `${s.name.padEnd(12)} ${String(count(s.name)).padStart(5)} task(s)${s.needs?.length ? `  <- ${s.needs.map((n) => (n.when ? `${n.stage} (when ${n.when})` : n.stage)).join(', ')}` : ''}${s.description ? `  ${s.description}` : ''}`)
    .join('\n');
}
