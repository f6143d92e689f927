// Process entry: loads the Project module ($projectEnvVar when set, else the default) and runs the CLI.
import path from 'node:path';
import { runCli } from './cli/index.ts';
import { importSource } from './compiled.ts';
import type { Project } from './types.ts';

/** `projectEnvVar`: the variable that names another Project module (tests run toy projects). */
export async function main(defaultProjectModule: string, projectEnvVar?: string): Promise<void> {
  // `<cli> status | head`: a closed pipe ends the output quietly instead of crashing.
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  const mod = path.resolve((projectEnvVar && process.env[projectEnvVar]) || defaultProjectModule);
  const { project } = (await importSource(mod)) as { project: Project };
  process.exitCode = await runCli(project, process.argv.slice(2));
}
