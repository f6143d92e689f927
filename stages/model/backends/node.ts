// `node`: tfjs-node, the CPU through libtensorflow (optional; its install downloads libtensorflow).
import { CPU_RESOURCES, systemMemory } from './common.ts';
import { packageVersion } from './packages.ts';
import { doctorTfjsNode, probeTfjsNode, registerTfjsNode, tfjsNodeInstallFix } from './tfjs-node.ts';
import type { Backend } from './types.ts';

const PKG = '@tensorflow/tfjs-node';

export const node: Backend<'node'> = {
  name: 'node',
  tfName: 'tensorflow',
  package: PKG,
  onGpu: false,
  resources: CPU_RESOURCES,
  installFix: tfjsNodeInstallFix(PKG),
  probe: () => probeTfjsNode(PKG) ?? { ok: true, reason: `${PKG} ${packageVersion(PKG) ?? '?'} resolvable` },
  async register(ctx) {
    await registerTfjsNode(ctx.tf, PKG);
    return {};
  },
  verify: () => ({ device: 'CPU (libtensorflow)' }),
  memoryLimit: () => systemMemory(),
  deviceKey: () => ({}),
  deviceLabel: () => 'CPU (libtensorflow)',
  precisionKey: () => ({}),
  doctor(r) {
    doctorTfjsNode(r, tfjsNodeInstallFix(PKG));
  },
};
