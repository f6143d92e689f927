// What the two libtensorflow backends (gpu: tfjs-node-gpu, node: tfjs-node) share: a native
// binding that a failed install leaves out, a 'tensorflow' tfjs backend registered on import.
import { tryLoad } from './common.ts';
import { nativeBindingPresent, packageInstalled, tfjsNodeBinding } from './packages.ts';
import type { BackendFindings, Probe, TfModule } from './types.ts';

export function tfjsNodeInstallFix(pkg: string): string {
  return `npm install ${pkg}@4.22.0 on a machine with network access (its install script downloads libtensorflow 2.9.1), ` +
    'then copy node_modules over; or use WEAKCORR_BACKEND=webgpu';
}

/** The static checks of the package and its binding: a failed Probe, or undefined when both are there. */
export function probeTfjsNode(pkg: string): Probe | undefined {
  if (!packageInstalled(pkg)) return { ok: false, reason: `${pkg} is not installed` };
  if (!nativeBindingPresent(pkg)) return { ok: false, reason: `${pkg} is installed but its native binding (lib/napi-v*/tfjs_binding.node) is missing` };
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
  if (r.installed && !binding) {
    r.native = { ok: false, detail: 'lib/napi-v*/tfjs_binding.node is missing (the install script could not download libtensorflow)' };
    r.problems.push({ problem: `${pkg}: ${r.native.detail}`, fix });
  } else if (binding) {
    r.native = tryLoad(`import { createRequire } from 'node:module'; createRequire(import.meta.url)(${JSON.stringify(binding)}); console.log('tfjs_binding.node loads');`);
    if (!r.native.ok) r.problems.push({ problem: `${pkg}: tfjs_binding.node does not load: ${r.native.detail}`, fix: `reinstall ${pkg}; its lib/ folder must hold libtensorflow.so.2 and libtensorflow_framework.so.2` });
  }
}
