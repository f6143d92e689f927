// The experiment's 'a1' and 'correlate' sections (Appendix A.1).
import { stringEnum } from '../../contracts/common.ts';
import { Type } from '@sinclair/typebox';
import { activationName, DatasetName, Seeds, Widths } from '../config-types.ts';

/** Where f_lin is trained; both give the same numbers to float32 rounding (test/train/function-space.test.ts). */
export const Linearization = stringEnum(['function', 'parameter'], {
  default: 'function',
  description: "f_lin's training: 'function' propagates f_lin - f0 by the empirical NTK at theta0, built once (exact for full-batch GD with MSE); 'parameter' does a JVP and a VJP through the network every step.",
});

export const A1Config = Type.Object({
  datasets: Type.Array(DatasetName, { uniqueItems: true }),
  activations: Type.Array(activationName(), { uniqueItems: true }),
  depths: Type.Array(Type.Integer({ minimum: 1, maximum: 8 }), { uniqueItems: true }),
  widths: Widths,
  seeds: Seeds,
  trainSamples: Type.Integer({ minimum: 1, default: 128 }),
  testSamples: Type.Integer({ minimum: 1, default: 32 }),
  permutationSeed: Type.Integer({ minimum: 0, default: 0 }),
  drawPerSeed: Type.Boolean({ default: true, description: 'Each net seed draws its own sample (permutation seed from permutationSeed and the seed), so intervals over seeds cover the draw too; false: one draw shared by every seed (the authors\' code).' }),
  steps: Type.Integer({ minimum: 1, default: 1000 }),
  lr: Type.Number({ exclusiveMinimum: 0, default: 1 }),
  logEvery: Type.Integer({ minimum: 1, default: 50 }),
  parameterization: stringEnum(['ntk', 'standard'], { default: 'ntk' }),
  sigmaW: Type.Number({ exclusiveMinimum: 0, default: 1 }),
  sigmaB: Type.Number({ minimum: 0, default: 0.05 }),
  lossScale: Type.Number({ exclusiveMinimum: 0, default: 0.5, description: "Loss = lossScale * mean over samples x outputs of squared error (authors' A.1 code: 0.5)." }),
  zscore: Type.Boolean({ default: true, description: "z-score each split with its own global mean and std (authors' A.1 code)." }),
  linearization: Linearization,
}, {
  additionalProperties: false,
  description: 'Appendix A.1 (Figures 1-3): full-batch GD on a fixed permutation of train samples, NTK parameterization.',
});

export const CorrelateConfig = Type.Object({
  samples: Type.Integer({ minimum: 1, default: 160, description: 'Samples X of the A.1 permutation used for correlations.' }),
  sampledSetSize: Type.Integer({ minimum: 1, default: 60, description: "|D| of the paper's sampled estimator (Eq. 25), per layer." }),
  sampledSeed: Type.Integer({ minimum: 0, default: 0 }),
  atEnd: Type.Boolean({ default: false, description: "Also measure at the end of training (the authors' released code did)." }),
}, { additionalProperties: false, default: {} });

/** The sample-drawing keys train-a1 and correlate both read: they must draw the same images. */
export const A1SampleKeys = ['trainSamples', 'testSamples', 'permutationSeed', 'drawPerSeed', 'zscore'] as const;
