// Whether this process runs the compiled bundle (bin/compiled.js) or the TypeScript sources
// through tsx, and how to start a child process or import a module the same way.
import { pathToFileURL } from 'node:url';

declare const __WEAKCORR_BUILD__: { entries: Record<string, string> } | undefined;

/** Absolute source path -> its compiled entry file; undefined when running the sources. */
const BUILD: { entries: Record<string, string> } | undefined = typeof __WEAKCORR_BUILD__ === 'undefined' ? undefined : __WEAKCORR_BUILD__;

export const runsCompiled = BUILD !== undefined;

/** The compiled file of an entry source, when this process runs compiled code and the build has it. */
export function compiledOf(source: string): string | undefined {
  return BUILD?.entries[source];
}

/** How to start Node on an entry source: its compiled file, else the source with tsx loaded. */
export function nodeEntry(source: string): { file: string; execArgv: string[] } {
  const file = compiledOf(source);
  return file ? { file, execArgv: [] } : { file: source, execArgv: ['--import', import.meta.resolve('tsx')] };
}

let tsx: Promise<void> | undefined;

/** Imports a module by path: its compiled entry when there is one, else the source (through tsx). */
export async function importSource(source: string): Promise<unknown> {
  const file = compiledOf(source);
  if (file) return import(pathToFileURL(file).href);
  if (BUILD && /\.[cm]?ts$/.test(source)) tsx ??= import('tsx/esm/api').then((m) => void m.register());
  await tsx;
  return import(pathToFileURL(source).href);
}
