// Runs one task of a project in this process: shared by the local worker processes and by batch
// jobs (where the job itself is the isolation, so a second process would only cost a Node start).
import { importSource } from './compiled.ts';
import { InterruptedError } from './errors.ts';
import type { Store, OutputEntry } from './store.ts';
import { checkAllOutputsWritten, createTaskContext, type ContextHooks } from './task-context.ts';
import type { TaskAssignment } from './protocol.ts';
import type { Project, StageDecl } from './types.ts';

const projects = new Map<string, Promise<Project>>();

export function loadProject(mod: string): Promise<Project> {
  let p = projects.get(mod);
  if (!p) {
    p = importSource(mod).then((m) => (m as { project: Project }).project);
    projects.set(mod, p);
  }
  return p;
}

export function stageOf(project: Project, name: string, projectModule: string): StageDecl {
  const stage = project.stages.find((s) => s.name === name);
  if (!stage) throw new Error(`stage '${name}' not found in ${projectModule}`);
  return stage;
}

/** The task's outputs; whatever the stage throws once `signal` fired is an InterruptedError. */
export async function runTask(stage: StageDecl, task: TaskAssignment, store: Store, hooks: ContextHooks, signal: AbortSignal): Promise<Record<string, OutputEntry>> {
  try {
    const { ctx, outputs, cleanup } = await createTaskContext(stage, task, store, hooks, signal);
    try {
      await stage.run(ctx);
      checkAllOutputsWritten(stage, outputs);
    } finally {
      await cleanup();
    }
    return outputs;
  } catch (e) {
    throw signal.aborted ? new InterruptedError() : e;
  }
}
