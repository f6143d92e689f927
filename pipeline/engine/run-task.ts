// Runs one task of a project in this process: the stage's run() with a TaskContext over the
// store. Shared by local worker processes and batch jobs (SLURM), so both compute alike.
import { pathToFileURL } from 'node:url';
import type { OutputEntry, Store } from './store.ts';
import { checkAllOutputsWritten, createTaskContext, type ContextHooks } from './task-context.ts';
import type { TaskAssignment } from './protocol.ts';
import type { Project } from './types.ts';

const projects = new Map<string, Promise<Project>>();

export function loadProject(mod: string): Promise<Project> {
  let p = projects.get(mod);
  if (!p) {
    p = import(pathToFileURL(mod).href).then((m: { project: Project }) => m.project);
    projects.set(mod, p);
  }
  return p;
}

/** Progress is throttled to one event per 100 ms (and every final one). */
export async function executeTask(projectModule: string, store: Store, task: TaskAssignment, hooks: ContextHooks, signal: AbortSignal): Promise<Record<string, OutputEntry>> {
  const project = await loadProject(projectModule);
  const stage = project.stages.find((s) => s.name === task.stage);
  if (!stage) throw new Error(`stage '${task.stage}' not found in ${projectModule}`);
  let lastProgress = 0;
  const { ctx, outputs, cleanup } = await createTaskContext(
    stage,
    task,
    store,
    {
      progress(done, total, message) {
        const now = Date.now();
        if (now - lastProgress < 100 && done < total) return;
        lastProgress = now;
        hooks.progress(done, total, message);
      },
      log: (message) => hooks.log(message),
    },
    signal,
  );
  try {
    await stage.run(ctx);
    checkAllOutputsWritten(stage, outputs);
  } finally {
    await cleanup();
  }
  return outputs;
}
