// Copies artifacts declared with `publish` to their place in the working tree (e.g. the HTML
// report), atomically, and only when the bytes there differ.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TaskNode } from './graph.ts';
import type { Planner } from './planner.ts';
import type { OutputEntry } from './store.ts';
import { envValue } from './project-env.ts';

/** Published paths are relative to the project root, or to $<PREFIX>_PUBLISH_ROOT when set (tests). */
export function publishPath(planner: Planner, template: string): string {
  const root = envValue(planner.project, 'PUBLISH_ROOT') ?? planner.project.root;
  return path.resolve(root, template.replaceAll('{experiment}', planner.experiment));
}

/** Returns the published paths (written now, or already up to date). */
export async function publishOutputs(planner: Planner, task: Pick<TaskNode, 'stage'>, outputs: Record<string, OutputEntry>): Promise<string[]> {
  const done: string[] = [];
  for (const [name, spec] of Object.entries(task.stage.outputs)) {
    const out = outputs[name];
    if (!spec.publish || !out) continue;
    const dest = publishPath(planner, spec.publish);
    done.push(dest);
    try {
      const current = await fs.readFile(dest);
      if (createHash('sha256').update(current).digest('hex') === out.hash) continue;
    } catch {
      // absent: write it
    }
    await fs.mkdir(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.${process.pid}.tmp`;
    await fs.copyFile(planner.store.blobs.path(out.hash), tmp);
    await fs.chmod(tmp, 0o644);
    await fs.rename(tmp, dest);
  }
  return done;
}
