// The experiment's 'corollary' section: the setting where Corollary 4.0.1's hypothesis holds.
// Online SGD on a realizable linear teacher with Gaussian inputs, NTK parameterization.
import { Type } from '@sinclair/typebox';
import { activationName } from '../config-types.ts';

export const CorollaryConfig = Type.Object({
  // Empty by default: an experiment without a 'corollary' section trains no teacher nets.
  widths: Type.Array(Type.Integer({ minimum: 1 }), { uniqueItems: true, default: [] }),
  seeds: Type.Array(Type.Integer({ minimum: 0 }), { uniqueItems: true, default: [] }),
  inputDim: Type.Integer({ minimum: 1, default: 32, description: 'Gaussian inputs x ~ N(0, I_d).' }),
  depth: Type.Integer({ minimum: 1, maximum: 8, default: 2 }),
  activation: activationName({ default: 'erf' }),
  steps: Type.Integer({ minimum: 1, default: 2000, description: 'S: online SGD steps, each on fresh samples.' }),
  batch: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
  lr: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Constant in width: the NTK parameterization keeps the kernel O(1).' }),
  lossScale: Type.Number({ exclusiveMinimum: 0, default: 0.5 }),
  logEvery: Type.Integer({ minimum: 1, default: 100 }),
  testSamples: Type.Integer({ minimum: 1, maximum: 1000, default: 256, description: 'Fixed test inputs on which f - f_lin and the losses are logged.' }),
  sigmaW: Type.Number({ exclusiveMinimum: 0, default: 1 }),
  sigmaB: Type.Number({ minimum: 0, default: 0.05 }),
}, {
  additionalProperties: false,
  default: {},
  description: 'Corollary 4.0.1 where its hypothesis holds: online SGD on a linear teacher y = A x (Gaussian x in R^d, A with N(0, 1/d) entries, 10 outputs), NTK parameterization, eta constant in width.',
});

/** What one task reads: the config without the grid's lists. */
export const TEACHER_RUN_KEYS = ['inputDim', 'depth', 'activation', 'steps', 'batch', 'lr', 'lossScale', 'logEvery', 'testSamples', 'sigmaW', 'sigmaB'] as const;
