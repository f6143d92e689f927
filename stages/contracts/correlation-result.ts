// Contract of correlate's 'result' output: derivative correlations of one A.1 net, exact and by
// the paper's sampled estimator (Eq. 25).
import { Type, type Static } from '@sinclair/typebox';
import { BackendDesc, ModelDesc, Num, artifactOptions } from './common.ts';

export const CORRELATION_RESULT_ID = 'weakcorr/correlation-result@1';

const PerSample = Type.Array(Num, { description: 'row-major [sample][output]' });

const ExactStat = Type.Object({
  rms: Type.Union([Type.Number(), Type.Null()], { description: 'sqrt(mean over samples and outputs of C^2)' }),
  perSample: PerSample,
}, { additionalProperties: false });

const SampledStat = Type.Object({
  eq25: Type.Union([Type.Number(), Type.Null()], { description: 'Eq. 25 as printed: (1/S) sqrt((1/d_y) sum_i sum_x value^2), S = samples, d_y = outputs; equals rms / sqrt(S)' }),
  rms: Type.Union([Type.Number(), Type.Null()], { description: 'sqrt(mean over samples and outputs of value^2)' }),
  perSample: Type.Array(Num, { description: 'value(x, i) = (1/|D|^d) sum_{a_1..a_d in D} d_a1 f_i .. d_ad f_i d_a1..d_ad f_i (no eta, no 1/d!); with D = all N parameters it equals (d! / (eta^d N^d)) times the exact C^{0,d}' }),
}, { additionalProperties: false });

const Exact = Type.Object({ c01: ExactStat, c02: ExactStat, c03: ExactStat }, {
  additionalProperties: false,
  description: 'C^{0,1} = eta ||g||^2, C^{0,d} = (eta^d / d!) d^d/dt^d f_i(theta + t g) at t = 0, g = grad f_i(x): exact, Taylor mode',
});

const Sampled = Type.Object({
  perLayer: Type.Integer({ minimum: 1, description: 'correlate.sampledSetSize: indices drawn per layer' }),
  setSize: Type.Array(Type.Integer({ minimum: 0 }), { description: '|D_l| = min(perLayer, N_l) per layer l = 0..L' }),
  total: Type.Integer({ minimum: 1, description: '|D| = sum of setSize; the normalisation 1/|D|^d uses it' }),
  seed: Type.Integer({ minimum: 0, description: 'seed of D: hashKey([correlate.sampledSeed, net seed, 0xc0])' }),
  c02: SampledStat,
  c03: SampledStat,
}, { additionalProperties: false, description: "The paper's sampled estimator (Eq. 25) with exact derivatives on a seeded random parameter set D" });

export const CorrelationBlockSchema = Type.Object({ exact: Exact, sampled: Sampled }, { additionalProperties: false });

export const CorrelationResultSchema = Type.Object({
  schema: Type.Literal(CORRELATION_RESULT_ID),
  point: Type.Object({
    dataset: Type.String(), activation: Type.String(), depth: Type.Integer(), width: Type.Integer(), seed: Type.Integer(),
  }, { additionalProperties: false }),
  model: ModelDesc,
  eta: Type.Number({ description: 'a1.lr' }),
  samples: Type.Integer({ minimum: 1, description: 'S = |X|: the first correlate.samples images of the A.1 sample (train part, then test part)' }),
  outputs: Type.Integer({ minimum: 1, description: 'd_y: outputs i = 0..d_y-1' }),
  exact: Exact,
  sampled: Sampled,
  atEnd: Type.Union([Type.Null(), CorrelationBlockSchema], { description: 'the same quantities at the trained parameters of train-a1 (correlate.atEnd), else null' }),
  backend: BackendDesc,
}, artifactOptions('correlation-result.schema.json', "Output 'result' of correlate: derivative correlations of one A.1 net, exact and by the paper's sampled estimator (Eq. 25)", 'Per-sample arrays are row-major [sample][output] with samples x outputs entries; values are rounded to 7 significant digits, null where not finite.'));

export type CorrelationResult = Static<typeof CorrelationResultSchema>;
export type CorrelationBlock = Static<typeof CorrelationBlockSchema>;
