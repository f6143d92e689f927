// `cpu`: tfjs's plain-JavaScript backend, the last resort; tensors live in JS typed arrays.
import { constants as bufferConstants } from 'node:buffer';
import { CPU_RESOURCES, cpuLabel, systemMemory } from './common.ts';
import { packageInstalled, packageVersion } from './packages.ts';
import type { Backend } from './types.ts';

const PKG = '@tensorflow/tfjs';

export const cpu: Backend<'cpu'> = {
  name: 'cpu',
  tfName: 'cpu',
  package: PKG,
  onGpu: false,
  resources: CPU_RESOURCES,
  installFix: `npm ci (${PKG} is a regular dependency)`,
  // A single tensor cannot outgrow the largest typed array Node allocates.
  maxArrayBytes: bufferConstants.MAX_LENGTH,
  probe: () => (packageInstalled(PKG) ? { ok: true, reason: `${PKG} ${packageVersion(PKG) ?? '?'} resolvable` } : { ok: false, reason: `${PKG} is not installed` }),
  register: async () => ({}),
  verify: () => ({ device: cpuLabel('cpu') }),
  memoryLimit: () => systemMemory(),
  deviceKey: () => ({}),
  deviceLabel: () => cpuLabel('cpu'),
  precisionKey: () => ({}),
  doctor(r) {
    r.native = { ok: r.installed, detail: 'pure JavaScript' };
  },
};
