// The teacher task of Corollary 4.0.1's test (docs/science.md, "Corollary 4.0.1"): Gaussian inputs
// x ~ N(0, I_d), a linear teacher y = A x with A_ij ~ N(0, 1/d) (so each target has unit variance),
// fresh samples every step (online SGD). No tfjs: the stage declaration imports this.
import type { Static } from '@sinclair/typebox';
import { Rng, hashKey } from '../../model/prng.ts';
import type { MlpSpec } from '../../model/spec.ts';
import type { EvalSet, TrainJob } from '../../train/loop.ts';
import type { JobHooks } from '../../train/stage.ts';
import type { CorollaryConfig, TEACHER_RUN_KEYS } from './config.ts';

export type TeacherRunParams = Pick<Static<typeof CorollaryConfig>, (typeof TEACHER_RUN_KEYS)[number]>;

export const TEACHER_OUTPUTS = 10;
/** Samples the final test metrics (MSE_test, the floors) are measured on. */
export const TEACHER_FINAL_TEST = 1000;

/** Stream keys: the teacher, the training stream and the fixed test sets never share a stream. */
const STREAM = { teacher: 0x7ea0, train: 0x7ea1, test: 0x7ea2, monitorTrain: 0x7ea3 } as const;

/** A (row-major [outputs, d]) with N(0, 1/d) entries, drawn from the seed. */
export function teacherMatrix(d: number, seed: number, outputs = TEACHER_OUTPUTS): Float64Array {
  const rng = new Rng(hashKey([STREAM.teacher, seed]));
  const a = new Float64Array(outputs * d);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal() / Math.sqrt(d);
  return a;
}

/** `count` samples x ~ N(0, I_d) from `rng` and their targets A x (float64 sums, stored float32). */
export function teacherSamples(a: Float64Array, d: number, count: number, rng: Rng): EvalSet {
  const outputs = a.length / d;
  const x = new Float32Array(count * d);
  const y = new Float32Array(count * outputs);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  for (let r = 0; r < count; r++) {
    for (let o = 0; o < outputs; o++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += a[o * d + k]! * x[r * d + k]!;
      y[r * outputs + o] = s;
    }
  }
  return { x, y, count };
}

export function teacherSpec(p: Pick<TeacherRunParams, 'inputDim' | 'depth' | 'activation' | 'sigmaW' | 'sigmaB'>, width: number): MlpSpec {
  return { dIn: p.inputDim, width, depth: p.depth, dOut: TEACHER_OUTPUTS, activation: p.activation, parameterization: 'ntk', sigmaW: p.sigmaW, sigmaB: p.sigmaB };
}

/** Online SGD on the teacher: every step draws `batch` fresh samples; the seed seeds init, teacher and streams. */
export function teacherJob(p: TeacherRunParams, pt: { width: number; seed: number }, hooks: JobHooks): TrainJob {
  const a = teacherMatrix(p.inputDim, pt.seed);
  const stream = new Rng(hashKey([STREAM.train, pt.seed]));
  const finalTest = teacherSamples(a, p.inputDim, Math.max(TEACHER_FINAL_TEST, p.testSamples), new Rng(hashKey([STREAM.test, pt.seed])));
  const monitorTest: EvalSet = { x: finalTest.x.subarray(0, p.testSamples * p.inputDim), y: finalTest.y.subarray(0, p.testSamples * TEACHER_OUTPUTS), count: p.testSamples };
  const monitorTrain = teacherSamples(a, p.inputDim, p.testSamples, new Rng(hashKey([STREAM.monitorTrain, pt.seed])));
  return {
    spec: teacherSpec(p, pt.width), seed: pt.seed, lr: p.lr, lossScale: p.lossScale, steps: p.steps, logEvery: p.logEvery, batch: p.batch,
    nextBatch: () => {
      const b = teacherSamples(a, p.inputDim, p.batch, stream);
      return { x: b.x, y: b.y };
    },
    monitorTrain, monitorTest, finalTrain: monitorTrain, finalTest,
    ...hooks,
  };
}
