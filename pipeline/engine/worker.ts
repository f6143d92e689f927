// A worker process: imports the project, runs one task at a time, writes artifacts to the store.
// The parent writes the task record, so a worker killed mid-task leaves no record behind.
import { pathToFileURL } from 'node:url';
import { InterruptedError, toWire } from './errors.ts';
import { Store } from './store.ts';
import { checkAllOutputsWritten, createTaskContext } from './task-context.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import type { Project } from './types.ts';

const projects = new Map<string, Promise<Project>>();
const abort = new AbortController();

function send(msg: FromWorker): void {
  process.send?.(msg);
}

function loadProject(mod: string): Promise<Project> {
  let p = projects.get(mod);
  if (!p) {
    p = import(pathToFileURL(mod).href).then((m: { project: Project }) => m.project);
    projects.set(mod, p);
  }
  return p;
}

// Ctrl-C reaches the whole process group: the parent decides what happens, the worker ignores it.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {
  abort.abort();
  process.exit(143);
});
// Parent gone (killed): stop at once rather than compute for nobody.
process.on('disconnect', () => process.exit(0));

process.on('message', (msg: ToWorker) => {
  if (msg.type !== 'run') return;
  void runTask(msg);
});

async function runTask(msg: ToWorker): Promise<void> {
  const { task } = msg;
  try {
    const project = await loadProject(msg.projectModule);
    const stage = project.stages.find((s) => s.name === task.stage);
    if (!stage) throw new Error(`stage '${task.stage}' not found in ${msg.projectModule}`);
    const store = new Store(msg.storeDir, { command: project.name });
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
          send({ type: 'progress', id: task.id, done, total, message });
        },
        log(message) {
          send({ type: 'log', id: task.id, message });
        },
      },
      abort.signal,
    );
    try {
      await stage.run(ctx);
      checkAllOutputsWritten(stage, outputs);
    } finally {
      await cleanup();
    }
    send({ type: 'done', id: task.id, outputs });
  } catch (e) {
    // Whatever a stage throws once it was told to stop is the stop, not a failure.
    send({ type: 'error', id: task.id, error: toWire(abort.signal.aborted ? new InterruptedError() : e) });
  }
}

send({ type: 'ready' });
