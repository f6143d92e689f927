// The experiment's 'a2ntk' section: A.2 (Figure 4) in the NTK parameterization, where Theorem 3.2
// applies at every width (docs/science.md, "Theorem 3.2 in scope").
import { Type } from '@sinclair/typebox';
import { A2Config } from '../a2/config.ts';

const { widths: _w, seeds: _s, alphas: _a, lr0: _l, ...a2Run } = A2Config.properties;

export const A2NtkConfig = Type.Object({
  // Empty by default: an experiment without an 'a2ntk' section trains nothing here.
  widths: Type.Array(Type.Integer({ minimum: 1 }), { uniqueItems: true, default: [] }),
  seeds: Type.Array(Type.Integer({ minimum: 0 }), { uniqueItems: true, default: [] }),
  betas: Type.Array(Type.Number({ minimum: -2, maximum: 0 }), {
    uniqueItems: true, default: [],
    description: 'Learning-rate exponents beta <= 0: eta = lr0 * n^beta, so r = eta/eta_the <= 1 at every width (eta_the is O(1) in the NTK parameterization).',
  }),
  lr0: Type.Number({
    exclusiveMinimum: 0, default: 64,
    description: 'eta at beta = 0. The NTK kernel is O(1) in width, and so is the critical rate 10 batch / (lossScale lambda_max(K_batch)): about 320-540 at theta0 on MNIST (n = 64-1024), so 64 keeps r below 1/5 at every width.',
  }),
  // Everything else as A.2 (GELU, 784-n-n-10, SGD batch 128, 250 steps, MSELoss), same defaults.
  ...a2Run,
}, {
  additionalProperties: false,
  default: {},
  description: 'Theorem 3.2 in scope: A.2 (MNIST, 784-n-n-10 GELU, SGD batch 128) in the NTK parameterization (sigma_w = 1, sigma_b = 0.05), eta = lr0 * n^beta with beta <= 0.',
});

