// `status` and `run --dry-run`: what each task's state is now, and why, without running anything.
import type { TaskNode } from './graph.ts';
import type { KeyComponents } from './fingerprint.ts';
import { missReason, staleReasons, type Planner, type Resolved } from './planner.ts';
import type { OutputEntry } from './store.ts';
import type { TaskKey } from './types.ts';

export interface TaskStatus {
  id: string;
  stage: string;
  state: 'cached' | 'stale' | 'missing';
  key?: string;
  reasons: string[];
  /**
   * The key's components, when every input is known (for `why`; left out of printed output):
   * made when asked, since `status` keys every task and needs none of them.
   */
  components?: () => KeyComponents;
}

/** A status without its key components, for printing. */
export function brief(t: TaskStatus): Omit<TaskStatus, 'components'> {
  // Picked, not spread: the same fields in the same order, and nothing of the components made.
  return t.key === undefined ? { id: t.id, stage: t.stage, state: t.state, reasons: t.reasons } : { id: t.id, stage: t.stage, key: t.key, state: t.state, reasons: t.reasons };
}

/** The components of `r`, made on the first call (a Resolved makes them when its getter is read). */
const componentsOf = (r: Resolved): (() => KeyComponents) => () => r.components;

export async function inspectTasks(planner: Planner, tasks: TaskNode[], force = new Set<string>(), verify = false): Promise<TaskStatus[]> {
  const known = new Map<TaskNode, Record<string, OutputEntry>>();
  const statuses = new Map<TaskNode, TaskStatus>();
  const outputsOf = (d: TaskNode): Record<string, OutputEntry> => known.get(d)!;
  await planner.prepare(new Set(tasks.map((t) => t.stage)));
  // Resolve stage by stage so independent tasks' cache checks overlap.
  const levels = new Map<TaskNode, number>();
  for (const t of tasks) {
    // A loop, not Math.max(...deps): a task over 100,000 inputs would overflow the call's arguments.
    let level = 0;
    for (const d of t.deps) level = Math.max(level, (levels.get(d) ?? -1) + 1);
    levels.set(t, level);
  }
  const byLevel: TaskNode[][] = [];
  for (const t of tasks) (byLevel[levels.get(t)!] ??= []).push(t);

  /** A task's status when it takes no waiting (keyed, and found in the index or absent); else undefined. */
  const now = (task: TaskNode): TaskStatus | undefined => {
    for (const d of task.deps) if (!known.has(d)) return undefined;
    const r = planner.resolveNow(task, outputsOf);
    const found = r && !force.has(task.stage.name) ? planner.lookupNow(r.key, task.stage, verify) : undefined;
    if (!r || !found?.hit) return undefined;
    known.set(task, found.record.outputs);
    return { id: task.id, stage: task.stage.name, key: r.key, components: componentsOf(r), state: 'cached', reasons: [] };
  };

  const later = async (task: TaskNode): Promise<void> => {
    const base = { id: task.id, stage: task.stage.name };
    const pendingDeps = task.deps.filter((d) => !known.has(d));
    // Only a task that is not cached needs the key it had before.
    const prevKey = (): Promise<string | undefined> => planner.store.index.key(planner.experiment, task.id);
    if (pendingDeps.length) {
      // Its key is unknown until those inputs are rebuilt (they may come out identical).
      const reasons = pendingDeps.slice(0, 3).map((d) => `input ${d.id} is ${statuses.get(d)?.state ?? 'unknown'}`);
      if (pendingDeps.length > 3) reasons.push(`and ${pendingDeps.length - 3} more inputs`);
      statuses.set(task, { ...base, state: (await prevKey()) ? 'stale' : 'missing', reasons });
      return;
    }
    const r = await planner.resolve(task, outputsOf);
    const keyed = { ...base, key: r.key, components: componentsOf(r) };
    const found = await planner.lookup(r.key, task.id, task.stage);
    if (found.hit && !force.has(task.stage.name)) {
      known.set(task, found.record.outputs);
      statuses.set(task, { ...keyed, state: 'cached', reasons: [] });
      return;
    }
    if (found.hit) {
      statuses.set(task, { ...keyed, state: 'stale', reasons: [`--force ${task.stage.name}`] });
      return;
    }
    const unusable = missReason(found.miss);
    if (unusable) {
      statuses.set(task, { ...keyed, state: 'missing', reasons: [`cached result unusable: ${unusable} (see warning)`] });
      return;
    }
    const prevK = await prevKey();
    const prev = prevK ? planner.record(prevK as TaskKey) : undefined;
    if (prev) statuses.set(task, { ...keyed, state: 'stale', reasons: staleReasons(prev, r.components) });
    else statuses.set(task, { ...keyed, state: 'missing', reasons: ['never computed'] });
  };

  for (const level of byLevel) {
    const waiting: TaskNode[] = [];
    for (const task of level) {
      const st = now(task);
      if (st) statuses.set(task, st);
      else waiting.push(task);
    }
    if (waiting.length) await Promise.all(waiting.map(later));
  }
  return tasks.map((t) => statuses.get(t)!);
}
