// The experiment's 'meanfield' section: the negative control. A.1's networks and sample, trained
// and measured in the NTK and in the mean-field parameterization side by side on one small grid.
import { stringEnum } from '../../contracts/common.ts';
import { Type } from '@sinclair/typebox';
import { activationName, DatasetName } from '../config-types.ts';
import { Linearization } from '../a1/config.ts';

/** gamma0.25: the output exponent gamma = 1/4 between NTK (0) and mean-field (1/2), eta = lr0 sqrt(n): the dose-response. */
export const MfParameterization = stringEnum(['ntk', 'gamma0.25', 'meanfield']);

export const MeanFieldConfig = Type.Object({
  // Empty by default: an experiment without a 'meanfield' section runs no control.
  datasets: Type.Array(DatasetName, { uniqueItems: true, default: [] }),
  activations: Type.Array(activationName(), { uniqueItems: true, default: [] }),
  depths: Type.Array(Type.Integer({ minimum: 1, maximum: 8 }), { uniqueItems: true, default: [] }),
  widths: Type.Array(Type.Integer({ minimum: 1 }), { uniqueItems: true, default: [] }),
  seeds: Type.Array(Type.Integer({ minimum: 0 }), { uniqueItems: true, default: [] }),
  parameterizations: Type.Array(MfParameterization, { uniqueItems: true, default: ['ntk', 'meanfield'] }),
  trainSamples: Type.Integer({ minimum: 1, default: 128 }),
  testSamples: Type.Integer({ minimum: 1, default: 32 }),
  permutationSeed: Type.Integer({ minimum: 0, default: 0 }),
  zscore: Type.Boolean({ default: true }),
  drawPerSeed: Type.Boolean({ default: true, description: 'Each seed draws its own sample (as a1.drawPerSeed): the intervals cover the draw too.' }),
  steps: Type.Integer({ minimum: 1, default: 1000 }),
  lr0: Type.Number({
    exclusiveMinimum: 0, default: 1,
    description: 'NTK: eta = lr0 (A.1). Mean-field: eta = lr0 * n (muP with N(0, 1) raw parameters, docs/science.md), so that the NTK, which is O(1/n) there, stays O(1) and hidden weights move O(1) per step (feature learning).',
  }),
  logEvery: Type.Integer({ minimum: 1, default: 50 }),
  sigmaW: Type.Number({ exclusiveMinimum: 0, default: 1 }),
  sigmaB: Type.Number({ minimum: 0, default: 0.05 }),
  lossScale: Type.Number({ exclusiveMinimum: 0, default: 0.5 }),
  samples: Type.Integer({ minimum: 1, default: 160, description: 'Samples of the A.1-style draw used for the correlations.' }),
  sampledSetSize: Type.Integer({ minimum: 1, default: 60, description: "|D| per layer of the paper's sampled estimator (computed, not fitted here)." }),
  sampledSeed: Type.Integer({ minimum: 0, default: 0 }),
  linearization: Linearization,
}, {
  additionalProperties: false,
  default: {},
  description: 'Negative control: A.1 networks in the NTK and the mean-field / muP parameterization (output layer sigma_w/n, output bias sigma_b/sqrt(n), eta = lr0 n), correlations at theta0, f - f_lin relative to how far f moved and the kernel drift after training vs width.',
});

/** What one task reads: the config without the grid's lists. */
export const MF_RUN_KEYS = ['trainSamples', 'testSamples', 'permutationSeed', 'drawPerSeed', 'zscore', 'steps', 'lr0', 'logEvery', 'sigmaW', 'sigmaB', 'lossScale', 'linearization'] as const;
