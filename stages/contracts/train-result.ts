// Contract of a training stage's 'result' output: one net and its linearization trained side by
// side. Producers (stages/train) and consumers (fit, protocols) both use this type.
import { Type, type Static } from '@sinclair/typebox';
import { BackendDesc, ModelDesc, Num, artifactOptions, stringEnum } from './common.ts';

export const TRAIN_RESULT_ID = 'weakcorr/train-result@1';

const Final = Type.Object({
  trainLossNet: Type.Number(), trainLossLin: Type.Number(),
  testLossNet: Type.Number(), testLossLin: Type.Number(),
  lossGap: Type.Number(), lossGapRel: Type.Number(),
  eq24Train: Type.Number(), eq24Test: Type.Number(),
  mseTest: Type.Number(), testCount: Type.Integer(),
  fMoveTest: Type.Optional(Type.Number({ description: 'how far f itself moved on the final test set: sqrt(mean over samples of ||f_S - f_0||^2); absent in older results' })),
  linRelTest: Type.Optional(Type.Number({ description: 'f - f_lin relative to how far f moved: sqrt(mseTest) / fMoveTest' })),
  testAccNet: Type.Optional(Type.Number({ description: 'argmax-vs-label accuracy of f on the final test set' })),
  testAccLin: Type.Optional(Type.Number({ description: 'the same for f_lin' })),
  mseTestFloor: Type.Number({ description: "rounding floor of mseTest on this run, measured on the difference-form evaluation (f - f0 and f_lin - f0 propagated as quantities of their own): half the mean squared change of f - f_lin when every sum is taken in another order (stages/train/metrics.ts floorOf)" }),
  eq24TestFloor: Type.Number({ description: 'the same for eq24Test' }),
  eq24TrainFloor: Type.Number({ description: 'the same for eq24Train' }),
  lossGapFloor: Type.Number({ description: 'the same for lossGap: |lossGap - lossGap in the other order| / sqrt 2' }),
}, { additionalProperties: false });

export const TrainLogRow = Type.Object({
  step: Type.Integer(), lossNet: Num, lossLin: Num, eq24Train: Num, eq24Test: Num,
  // Mean over the step's mini-batch of ||f - f_lin||^2 before the update; absent in older results.
  mseBatch: Type.Optional(Num),
  // On the monitored test samples after the step: mean ||f - f_lin||^2 and the losses of f and f_lin; absent in older results.
  mseMonitor: Type.Optional(Num),
  testLossNet: Type.Optional(Num),
  testLossLin: Type.Optional(Num),
}, { additionalProperties: false });

export const TrainResultSchema = Type.Object({
  schema: Type.Literal(TRAIN_RESULT_ID),
  protocol: Type.String({ description: 'the protocol id (stages/wiring/registry.ts)' }),
  point: Type.Object({
    dataset: Type.String(),
    activation: Type.String(),
    depth: Type.Integer(),
    width: Type.Integer(),
    seed: Type.Integer(),
    alpha: Type.Union([Type.Number(), Type.Null()], { description: 'A.2 learning-rate exponent: eta = lr0 * width^alpha' }),
  }, { additionalProperties: false }),
  model: ModelDesc,
  lr: Type.Number(),
  lossScale: Type.Number(),
  steps: Type.Integer(),
  stepsDone: Type.Integer(),
  batch: Type.Integer(),
  status: stringEnum(['ok', 'diverged']),
  final: Type.Union([Type.Null(), Final], {
    description: 'null when diverged. Losses: lossScale * mean (f - y)^2; lossGap = |L(f) - L(f_lin)| on the training samples (A.2: a fixed 256-image train subset); eq24*: Eq. 24; mseTest: Eq. 30 on the test set.',
  }),
  log: Type.Array(TrainLogRow),
  flops: Type.Number({ description: 'matmul FLOPs done (see stages/train/metrics.ts stepFlops)' }),
  kernelShare: Type.Optional(Type.Number({
    description: "share of the empirical NTK's trace at theta0 (on up to 64 final test samples) from the weight matrices with fan-in n, the terms that grow like n in the standard parameterization (stages/model/kernel-share.ts)",
  })),
  kernelDrift: Type.Optional(Type.Number({
    description: "relative drift of the empirical NTK in training, ||Theta_S - Theta_0||_F / ||Theta_0||_F, on up to 64 final test samples and all outputs (stages/model/kernel-drift.ts); only where the protocol asks for it (the mean-field control)",
  })),
  backend: BackendDesc,
}, artifactOptions('train-result.schema.json', "Output 'result' of a training stage: one net and its linearization trained side by side"));

export type TrainResult = Static<typeof TrainResultSchema>;
export type TrainFinal = Static<typeof Final>;

/**
 * A result's measured rounding floors as row columns named `${value}Floor`, which fit groups
 * (stages/fit/groups.ts) read to leave out points within 10x of their floor. Null when diverged.
 */
export function floorColumns(final: TrainFinal | null | undefined): Record<'mseTestFloor' | 'eq24TestFloor' | 'eq24TrainFloor' | 'lossGapFloor' | 'lossGapRelFloor', number | null> {
  return {
    mseTestFloor: final?.mseTestFloor ?? null, eq24TestFloor: final?.eq24TestFloor ?? null, eq24TrainFloor: final?.eq24TrainFloor ?? null,
    lossGapFloor: final?.lossGapFloor ?? null, lossGapRelFloor: final ? final.lossGapFloor / final.trainLossNet : null,
  };
}

/**
 * The training loss of f against the best constant predictor's on balanced one-hot targets: the
 * constant 1/d in every output leaves (1 - 1/d)/d per entry (0.09 for 10 classes), times lossScale. Near 1 the
 * net has learned nothing beyond the class frequencies.
 */
export function trainLossVsTrivial(r: Pick<TrainResult, 'final' | 'lossScale' | 'model'>): number | null {
  if (!r.final) return null;
  const dOut = r.model.sizes[r.model.sizes.length - 1];
  const trivial = r.lossScale * (1 - 1 / dOut) / dOut;
  return r.final.trainLossNet / trivial;
}
