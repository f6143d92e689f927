// Checks that belong before anything runs: every selected stage's runtime (e.g. the tfjs backend
// named by an environment variable) resolves. A bad one is one line and exit 2, not one failure
// per task after the upstream stages already ran.
import type { TaskNode } from './graph.ts';
import { SetupError } from './errors.ts';
import type { RuntimeContext, RuntimeTarget } from './types.ts';

// Runtimes are cheap by contract (they are resolved in the parent for every key), so asking once
// here and again in the planner costs little. `ctx`: the store's probe memo, once the store is open.
export async function checkRuntimes(tasks: readonly Pick<TaskNode, 'stage'>[], where: RuntimeTarget = 'local', ctx?: RuntimeContext): Promise<void> {
  for (const stage of new Set(tasks.map((t) => t.stage))) {
    try {
      await (stage.runtime ? stage.runtime(where, ctx) : {});
    } catch (e) {
      throw new SetupError(`stage '${stage.name}' cannot run ${where === 'remote' ? 'as a batch job' : 'here'}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
