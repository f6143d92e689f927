// Where a backend's npm package is and which version it has, without loading it (no tfjs import):
// the planning parent reads these for cache keys, and the doctor for its report.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

// In the gpu-pack bundle (tools/gpu-pack.ts) the tfjs packages are compiled in rather than on
// disk; the bundler defines their versions here.
declare const __WEAKCORR_BUNDLED__: Record<string, string> | undefined;
const BUNDLED: Record<string, string> = typeof __WEAKCORR_BUNDLED__ === 'object' ? __WEAKCORR_BUNDLED__ : {};

/** True when the package resolves on disk or is compiled into this bundle. */
export function packageInstalled(pkg: string): boolean {
  return pkg in BUNDLED || packageDir(pkg) !== undefined;
}

// Where each package is, once per process: resolving one (koffi's exports, a package that is not
// installed and is looked for in every node_modules above) costs milliseconds, and the planning
// parent asks for the same few packages for every stage's runtime.
const dirs = new Map<string, string | undefined>();

export function packageDir(pkg: string): string | undefined {
  if (!dirs.has(pkg)) dirs.set(pkg, findPackageDir(pkg));
  return dirs.get(pkg);
}

function findPackageDir(pkg: string): string | undefined {
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    return undefined;
  }
  // Walk up from the entry file to the package root (packages may not export package.json).
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === pkg) return dir;
      } catch {
        /* keep walking */
      }
    }
  }
  return undefined;
}

export function packageVersion(pkg: string): string | undefined {
  if (pkg in BUNDLED) return BUNDLED[pkg];
  const dir = packageDir(pkg);
  if (!dir) return undefined;
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
}

/** tfjs-node's native binding, lib/napi-v<N>/tfjs_binding.node; its absence = failed install. */
export function tfjsNodeBinding(pkg: string): string | undefined {
  const dir = packageDir(pkg);
  if (!dir || !existsSync(join(dir, 'lib'))) return undefined;
  const napi = readdirSync(join(dir, 'lib')).find((d) => d.startsWith('napi-v') && existsSync(join(dir, 'lib', d, 'tfjs_binding.node')));
  return napi && join(dir, 'lib', napi, 'tfjs_binding.node');
}

export function nativeBindingPresent(pkg: string): boolean {
  return tfjsNodeBinding(pkg) !== undefined;
}
