// What the two libtensorflow backends (gpu: tfjs-node-gpu, node: tfjs-node) share: a native
// binding that a failed install leaves out, a 'tensorflow' tfjs backend registered on import.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tryLoad } from './common.ts';
import { nativeBindingPresent, packageDir, packageInstalled, packageVersion, tfjsNodeBinding } from './packages.ts';
import type { BackendFindings, Probe, TfModule } from './types.ts';

export function tfjsNodeInstallFix(pkg: string): string {
  return `npm install ${pkg}@4.22.0 on a machine with network access (its install script downloads libtensorflow 2.9.1), ` +
    'then copy node_modules over; or use WEAKCORR_BACKEND=webgpu';
}

/**
 * An inert install: the package is there but its install script never ran (npm >= 11 runs a
 * dependency's script only when package.json's allowScripts approves it; --ignore-scripts; no
 * network), so deps/ holds no libtensorflow and lib/ no binding. The exact fix.
 */
export function inertTfjsNode(pkg: string, dir: string | undefined = packageDir(pkg)): { problem: string; fix: string } | undefined {
  if (!dir) return undefined;
  const lib = join(dir, 'deps', 'lib');
  const hasLib = existsSync(lib) && readdirSync(lib).some((f) => f.startsWith('libtensorflow'));
  if (hasLib) return undefined;
  const version = packageVersion(pkg) ?? '';
  return {
    problem: `${pkg}${version ? ` ${version}` : ''} is inert: no libtensorflow under its deps/ (its install script never ran: npm >= 11 runs it only when package.json's "allowScripts" approves it, and it must download libtensorflow 2.9.1)`,
    fix: `on a machine with network access, in this checkout: npm rebuild ${pkg} (this project's package.json approves its script: "allowScripts": { "${pkg}": true }; a later npm ci runs it too), then copy node_modules over to offline machines; or use WEAKCORR_BACKEND=webgpu`,
  };
}

/** The static checks of the package and its binding: a failed Probe, or undefined when both are there. */
export function probeTfjsNode(pkg: string): Probe | undefined {
  if (!packageInstalled(pkg)) return { ok: false, reason: `${pkg} is not installed` };
  if (!nativeBindingPresent(pkg)) return { ok: false, reason: inertTfjsNode(pkg)?.problem ?? `${pkg} is installed but its native binding (lib/napi-v*/tfjs_binding.node) is missing` };
  return undefined;
}

/** Importing registers the 'tensorflow' backend with the shared tfjs-core instance. */
export async function registerTfjsNode(tf: TfModule, pkg: string, module: string = pkg): Promise<void> {
  await import(module);
  if (tf.findBackendFactory('tensorflow') == null) throw new Error(`${pkg} loaded but registered no 'tensorflow' backend (duplicate tfjs-core copy?)`);
}

/** Doctor: is the binding there, and does it load (in a child process)? */
export function doctorTfjsNode(r: BackendFindings, fix: string): void {
  const pkg = r.package;
  const binding = r.installed ? tfjsNodeBinding(pkg) : undefined;
  const inert = r.installed ? inertTfjsNode(pkg) : undefined;
  if (r.installed && !binding && inert) {
    r.native = { ok: false, detail: 'inert install: no deps/lib/libtensorflow* and no lib/napi-v*/tfjs_binding.node (its install script never ran)' };
    r.problems.push(inert);
  } else if (r.installed && !binding) {
    r.native = { ok: false, detail: 'lib/napi-v*/tfjs_binding.node is missing (the install script could not download libtensorflow)' };
    r.problems.push({ problem: `${pkg}: ${r.native.detail}`, fix });
  } else if (binding) {
    r.native = tryLoad(`import { createRequire } from 'node:module'; createRequire(import.meta.url)(${JSON.stringify(binding)}); console.log('tfjs_binding.node loads');`);
    if (!r.native.ok) r.problems.push({ problem: `${pkg}: tfjs_binding.node does not load: ${r.native.detail}`, fix: `reinstall ${pkg}; its lib/ folder must hold libtensorflow.so.2 and libtensorflow_framework.so.2` });
  }
}
