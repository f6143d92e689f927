// Shelling out through zx: its `$` quotes every interpolated value (an array becomes one word per
// element), so a path or a name with spaces, quotes or `$` reaches the command as the one argument
// it is, with no hand-built argument lists. zx is loaded on first use, never at start-up, and from
// `zx/core`: the same `$` without zx's bundled extras (globby, yaml, fetch), a third of the load.
import type { Options, Shell } from 'zx/core';

let zx: Promise<typeof import('zx/core')> | undefined;

export type ShellOptions = Partial<Pick<Options, 'cwd' | 'env' | 'nothrow' | 'timeout'>>;

/**
 * zx's `$` for this caller's commands. Every setting it depends on is given here, per call, so it
 * neither changes zx's own defaults (other callers keep theirs) nor takes them from them (or from
 * $ZX_VERBOSE and the like): quiet (a failing command's stderr is in its error, never echoed), not
 * verbose, in this process's working directory and environment at the time of the call (as
 * child_process does), no timeout unless one is given, and a non-zero exit rejects unless
 * `nothrow` (then the caller reads `.ok`, `.exitCode` and `.stderr`).
 */
export async function shell(opts: ShellOptions = {}): Promise<Shell> {
  const { $ } = await (zx ??= import('zx/core'));
  // zx quotes for the bash it found on PATH when it loaded; with none there it runs /bin/sh and has
  // no quoting at all (every command fails), so POSIX quoting stands in.
  return $({ quiet: true, verbose: false, nothrow: false, timeout: undefined, cwd: process.cwd(), env: process.env, quote: $.quote ?? shQuote, ...opts });
}

/**
 * One word for a POSIX shell, quoted so that nothing in it is expanded (`$`, backquotes, `"`,
 * spaces). For /bin/sh: zx's own quoting writes bash's $'...', which dash reads as a `$` and a
 * quoted string.
 */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The error (or result) of a command the shell could not find: not installed, or not on PATH. */
export function commandMissing(e: unknown): boolean {
  return (e as { exitCode?: unknown } | undefined)?.exitCode === 127;
}
