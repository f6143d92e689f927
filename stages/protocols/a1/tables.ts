// A.1's row tables, from train-a1 and correlate results: one row per net (and per logged step
// for the training curves).
import type { CorrelationResult } from '../../contracts/correlation-result.ts';
import type { Row } from '../../contracts/fits.ts';
import { floorColumns, trainLossVsTrivial, type TrainResult } from '../../contracts/train-result.ts';

type Num = number | null;
interface NetKey { dataset: string; activation: string; depth: number; width: number; seed: number }

export interface A1Row extends Row, NetKey { status: string; lr: number; eq24Train: Num; eq24Test: Num; lossGap: Num; lossGapRel: Num; mseTest: Num; trainLoss: Num; testAcc: Num; trainLossVsTrivial: Num; kernelShare: Num }
export interface CorrRow extends Row, NetKey { c01: Num; c02: Num; c03: Num; c02Sampled: Num; c03Sampled: Num; c02Eq25: Num; c03Eq25: Num }
export interface DynRow extends Row, NetKey { step: number; model: string; split: string; loss: Num }

const netKey = (p: NetKey): NetKey => ({ dataset: p.dataset, activation: p.activation, depth: p.depth, width: p.width, seed: p.seed });

export function a1Rows(results: TrainResult[]): A1Row[] {
  return results.map((r) => ({
    ...netKey(r.point),
    status: r.status, lr: r.lr,
    eq24Train: r.final?.eq24Train ?? null, eq24Test: r.final?.eq24Test ?? null,
    lossGap: r.final?.lossGap ?? null, lossGapRel: r.final?.lossGapRel ?? null, mseTest: r.final?.mseTest ?? null,
    trainLoss: r.final?.trainLossNet ?? null,
    testAcc: r.final?.testAccNet ?? null,
    trainLossVsTrivial: trainLossVsTrivial(r), kernelShare: r.kernelShare ?? null,
    ...floorColumns(r.final),
  }));
}

export function corrRows(results: CorrelationResult[]): CorrRow[] {
  return results.map((r) => ({
    ...netKey(r.point),
    c01: r.exact.c01.rms, c02: r.exact.c02.rms, c03: r.exact.c03.rms,
    c02Sampled: r.sampled.c02.rms, c03Sampled: r.sampled.c03.rms, c02Eq25: r.sampled.c02.eq25, c03Eq25: r.sampled.c03.eq25,
  }));
}

/** Training curves: train loss of net and linearization per logged step. */
export function dynamicsRows(results: TrainResult[]): DynRow[] {
  return results.flatMap((r) => r.log.flatMap((l) => [
    { ...netKey(r.point), step: l.step, model: 'net', split: 'train', loss: l.lossNet },
    { ...netKey(r.point), step: l.step, model: 'linearized', split: 'train', loss: l.lossLin },
  ]));
}
