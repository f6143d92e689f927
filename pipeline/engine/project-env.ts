// The environment variables the engine reads are named after the project, never hard-coded.
import type { Project } from './types.ts';

type Named = Pick<Project, 'name' | 'envPrefix'>;

/** `<prefix>_<what>`, e.g. FOO_EXECUTOR for a project named 'foo'. */
export function envName(project: Named, what: string): string {
  return `${project.envPrefix ?? project.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${what}`;
}

/** The variable's value; empty counts as unset. */
export function envValue(project: Named, what: string): string | undefined {
  return process.env[envName(project, what)] || undefined;
}
