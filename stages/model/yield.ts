// Long computations give the event loop a turn between steps: awaiting tfjs reads resolves as
// microtasks only, so without this no timer (lock and lease heartbeats), signal handler (SIGTERM from
// scancel) or IPC message (an abort from the parent) would run until the task ends.
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
