// Process entry: loads the Project module (WEAKCORR_PROJECT, or the one given) and runs the CLI.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from './cli.ts';
import type { Project } from './types.ts';

export async function main(defaultProjectModule: string): Promise<void> {
  // `weakcorr status | head`: a closed pipe ends the output quietly instead of crashing.
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  const mod = path.resolve(process.env.WEAKCORR_PROJECT || defaultProjectModule);
  const { project } = (await import(pathToFileURL(mod).href)) as { project: Project };
  process.exitCode = await runCli(project, process.argv.slice(2));
}
