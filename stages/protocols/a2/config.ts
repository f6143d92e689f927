// The experiment's 'a2' section (Appendix A.2, Figure 4).
import { Type } from '@sinclair/typebox';
import { activationName, Seeds, Widths } from '../config-types.ts';

export const A2Config = Type.Object({
  widths: Widths,
  seeds: Seeds,
  alphas: Type.Array(Type.Number({ minimum: -2, maximum: 1 }), { uniqueItems: true }),
  lr0: Type.Number({ exclusiveMinimum: 0, default: 0.1 }),
  steps: Type.Integer({ minimum: 1, default: 250 }),
  batch: Type.Integer({ minimum: 1, default: 128 }),
  testSize: Type.Integer({ minimum: 1, default: 10000, description: 'Test images used for MSE_test (the paper: all 10000).' }),
  activation: activationName({ default: 'gelu' }),
  depth: Type.Integer({ minimum: 1, maximum: 8, default: 2 }),
  lossScale: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'PyTorch MSELoss: mean over batch x outputs (1).' }),
  logEvery: Type.Integer({ minimum: 1, default: 25 }),
}, {
  additionalProperties: false,
  description: 'Appendix A.2 (Figure 4): MNIST, 784-n-n-10 GELU, standard parameterization, SGD batch 128, eta = lr0 * n^alpha.',
});
