// Checks that belong before anything runs: every selected stage's runtime (e.g. the tfjs backend
// named by an environment variable) resolves. A bad one is one line and exit 2, not one failure
// per task after the upstream stages already ran.
import type { TaskNode } from './graph.ts';
import { SetupError } from './errors.ts';
import type { RuntimeTarget } from './types.ts';

// Runtimes are cheap by contract (they are resolved in the parent for every key), so asking once
// here and again in the planner costs little.
export async function checkRuntimes(tasks: TaskNode[], where: RuntimeTarget = 'local'): Promise<void> {
  for (const stage of new Set(tasks.map((t) => t.stage))) {
    try {
      await (stage.runtime ? stage.runtime(where) : {});
    } catch (e) {
      throw new SetupError(`stage '${stage.name}' cannot run ${where === 'remote' ? 'as a batch job' : 'here'}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
