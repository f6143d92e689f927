// The experiment's 'fit' section.
import { Type } from '@sinclair/typebox';

export const FitConfig = Type.Object({
  bootstrap: Type.Integer({ minimum: 1, default: 1000, description: 'bootstrap resamples of the seeds per fit group' }),
  seed: Type.Integer({ minimum: 0, default: 0, description: 'seed of the bootstrap PRNG' }),
  widest: Type.Integer({
    minimum: 0,
    default: 0,
    description: 'fit each group on its N widest widths only (N >= 2: the asymptotic end; docs/science.md, "Fits"); 0: every width',
  }),
}, { additionalProperties: false, default: {} });
