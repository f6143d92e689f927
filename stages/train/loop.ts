// Trains a net and its linearization side by side and measures how far apart they drift.
import { InterruptedError } from '../../pipeline/engine/errors.ts';
import { tf } from '../model/backend.ts';
import { yieldToEventLoop } from '../model/yield.ts';
import { PairTrainer, disposeParams, forward, initParams, linearizedForward, permuteParams, resolveSpec, type MlpSpec, type Params } from '../model/mlp.ts';
import { hashKey } from '../model/prng.ts';
import { permutation } from './data.ts';
import { accuracy, eq24, floorOf, mseBetween, mseLossValue, stepFlops } from './metrics.ts';

export interface EvalSet {
  x: Float32Array;
  y: Float32Array;
  count: number;
}

export interface LogRow {
  step: number;
  lossNet: number;
  lossLin: number;
  /** Eq. 24 on the monitored train and test samples */
  eq24Train: number;
  eq24Test: number;
  /** mean over the step's batch of ||f - f_lin||^2 before the update (A.2's per-step discrepancy, Corollary 4.0.1) */
  mseBatch: number;
}

export interface TrainOutcome {
  status: 'ok' | 'diverged';
  stepsDone: number;
  log: LogRow[];
  final: {
    trainLossNet: number;
    trainLossLin: number;
    testLossNet: number;
    testLossLin: number;
    lossGap: number;
    lossGapRel: number;
    eq24Train: number;
    eq24Test: number;
    mseTest: number;
    testCount: number;
    /** argmax-vs-label accuracy on the final test set (NTK inferiority, section 3.3.3) */
    testAccNet: number;
    testAccLin: number;
    /** The rounding floors of mseTest, eq24Test, eq24Train and lossGap on this run (floorOf in metrics.ts) */
    mseTestFloor: number;
    eq24TestFloor: number;
    eq24TrainFloor: number;
    lossGapFloor: number;
  } | null;
  flops: number;
  wallMs: number;
  finalParams?: Float32Array[];
}

export interface TrainJob {
  spec: MlpSpec;
  seed: number;
  lr: number;
  lossScale: number;
  steps: number;
  logEvery: number;
  batch: number;
  /** next batch: rows [batch, dIn] and one-hot targets [batch, 10] */
  nextBatch(): { x: Float32Array; y: Float32Array };
  /** samples monitored along training (Eq. 24 train/test in the log) */
  monitorTrain: EvalSet;
  monitorTest: EvalSet;
  /** the set MSE_test (Eq. 30) and the final test losses are measured on */
  finalTest: EvalSet;
  /** the set the final train losses are measured on */
  finalTrain: EvalSet;
  keepParams?: boolean;
  progress(step: number, total: number, message?: string): void;
  signal?: AbortSignal;
}

const EVAL_CHUNK = 1000;

// Reads are asynchronous throughout: WebGPU in Node has no synchronous readback.
async function predictBoth(trainer: PairTrainer, set: EvalSet, dIn: number): Promise<{ f: Float32Array; flin: Float32Array }> {
  const f = new Float32Array(set.count * 10);
  const flin = new Float32Array(set.count * 10);
  for (let start = 0; start < set.count; start += EVAL_CHUNK) {
    const rows = Math.min(EVAL_CHUNK, set.count - start);
    const [pn, pl] = tf.tidy(() => {
      const x = tf.tensor2d(set.x.subarray(start * dIn, (start + rows) * dIn), [rows, dIn]);
      return [trainer.predictNet(x), trainer.predictLin(x)];
    });
    f.set((await pn.data()) as Float32Array, start * 10);
    flin.set((await pl.data()) as Float32Array, start * 10);
    tf.dispose([pn, pl]);
  }
  return { f, flin };
}

/**
 * f and f_lin on `set` with every sum taken in another order: the hidden units and input features
 * renumbered by a fixed random permutation (permuteParams). Same parameters, same function; only
 * float32 rounding differs. The permuted net and then the permuted theta0 and delta are built one
 * after the other (at most 2 extra parameter copies live; estimatePeakBytes counts them).
 */
async function predictBothPermuted(trainer: PairTrainer, set: EvalSet, r: ReturnType<typeof resolveSpec>): Promise<{ f: Float32Array; flin: Float32Array }> {
  const perms = r.sizes.slice(0, -1).map((n, l) => Int32Array.from(permutation(n, hashKey([0xf1003, l, n]))));
  const idx0 = tf.tensor1d(perms[0]!, 'int32');
  const run = async (params: () => Params, predict: (p: Params, x: tf.Tensor2D) => tf.Tensor2D): Promise<Float32Array> => {
    const p = tf.tidy(params);
    const out = new Float32Array(set.count * 10);
    try {
      for (let start = 0; start < set.count; start += EVAL_CHUNK) {
        const rows = Math.min(EVAL_CHUNK, set.count - start);
        const y = tf.tidy(() => predict(p, tf.gather(tf.tensor2d(set.x.subarray(start * r.dIn, (start + rows) * r.dIn), [rows, r.dIn]), idx0, 1) as tf.Tensor2D));
        out.set((await y.data()) as Float32Array, start * 10);
        y.dispose();
      }
    } finally {
      disposeParams(p);
    }
    return out;
  };
  try {
    const f = await run(() => permuteParams(trainer.netParams(), perms), (p, x) => forward(r, p, x));
    // theta0 and delta permuted together, as one list (the tidy keeps what it returns).
    const L = r.depth + 1;
    const flin = await run(() => [...permuteParams(trainer.initialParams(), perms), ...permuteParams(trainer.linDelta(), perms)],
      (p, x) => linearizedForward(r, p.slice(0, L), p.slice(L), x));
    return { f, flin };
  } finally {
    idx0.dispose();
  }
}

async function batchDiscrepancy(trainer: PairTrainer, x: tf.Tensor2D): Promise<number> {
  const [pn, pl] = tf.tidy(() => [trainer.predictNet(x), trainer.predictLin(x)]);
  const [f, flin] = (await Promise.all([pn.data(), pl.data()])) as Float32Array[];
  tf.dispose([pn, pl]);
  return mseBetween(f, flin);
}

export async function trainSideBySide(job: TrainJob): Promise<TrainOutcome> {
  const started = Date.now();
  const r = resolveSpec(job.spec);
  const theta0 = initParams(job.spec, job.seed);
  const trainer = new PairTrainer(job.spec, theta0, { lr: job.lr, lossScale: job.lossScale, batch: job.batch });
  disposeParams(theta0);
  const log: LogRow[] = [];
  const flopsPerStep = stepFlops(r.sizes, job.batch);
  let status: 'ok' | 'diverged' = 'ok';
  let stepsDone = 0;
  try {
    const monitor = async (step: number, lossNet: number, lossLin: number, mseBatch: number): Promise<void> => {
      const tr = await predictBoth(trainer, job.monitorTrain, r.dIn);
      const te = await predictBoth(trainer, job.monitorTest, r.dIn);
      log.push({ step, lossNet, lossLin, eq24Train: eq24(tr.f, tr.flin), eq24Test: eq24(te.f, te.flin), mseBatch });
    };
    for (let step = 0; step < job.steps; step++) {
      await yieldToEventLoop();
      if (job.signal?.aborted) throw new InterruptedError();
      const { x, y } = job.nextBatch();
      const xt = tf.tensor2d(x, [job.batch, r.dIn]);
      const yt = tf.tensor2d(y, [job.batch, 10]);
      const logged = step % job.logEvery === 0;
      // Predictions only read the parameters: the training arithmetic is unchanged.
      const mseBatch = logged ? await batchDiscrepancy(trainer, xt) : NaN;
      const { lossNet, lossLin } = await trainer.stepAsync(xt, yt);
      xt.dispose();
      yt.dispose();
      if (!Number.isFinite(lossNet) || !Number.isFinite(lossLin)) {
        status = 'diverged';
        log.push({ step, lossNet, lossLin, eq24Train: NaN, eq24Test: NaN, mseBatch });
        break;
      }
      stepsDone = step + 1;
      if (logged) await monitor(step, lossNet, lossLin, mseBatch);
      job.progress(stepsDone, job.steps, `loss ${lossNet.toPrecision(3)} / lin ${lossLin.toPrecision(3)}`);
    }
    let final: TrainOutcome['final'] = null;
    if (status === 'ok') {
      const tr = await predictBoth(trainer, job.finalTrain, r.dIn);
      const te = await predictBoth(trainer, job.finalTest, r.dIn);
      const trainLossNet = mseLossValue(tr.f, job.finalTrain.y, job.lossScale);
      const trainLossLin = mseLossValue(tr.flin, job.finalTrain.y, job.lossScale);
      const lossGap = Math.abs(trainLossNet - trainLossLin);
      // The rounding floor, measured on this run: the same quantities with every sum in another
      // order (predictBothPermuted). Parameter updates are stored exactly (PairTrainer), so what is
      // left of float32 is the evaluation's rounding, and its size is what two orders differ by.
      // (f - f_lin with both at theta0 would read 0: the two evaluations are then bit-identical.)
      const trP = await predictBothPermuted(trainer, job.finalTrain, r);
      const teP = await predictBothPermuted(trainer, job.finalTest, r);
      const lossGapP = Math.abs(mseLossValue(trP.f, job.finalTrain.y, job.lossScale) - mseLossValue(trP.flin, job.finalTrain.y, job.lossScale));
      const fl = { test: floorOf(te, teP), train: floorOf(tr, trP) };
      final = {
        trainLossNet,
        trainLossLin,
        testLossNet: mseLossValue(te.f, job.finalTest.y, job.lossScale),
        testLossLin: mseLossValue(te.flin, job.finalTest.y, job.lossScale),
        lossGap,
        lossGapRel: lossGap / trainLossNet,
        eq24Train: eq24(tr.f, tr.flin),
        eq24Test: eq24(te.f, te.flin),
        mseTest: mseBetween(te.f, te.flin),
        testCount: job.finalTest.count,
        testAccNet: accuracy(te.f, job.finalTest.y),
        testAccLin: accuracy(te.flin, job.finalTest.y),
        mseTestFloor: fl.test.mse,
        eq24TestFloor: fl.test.eq24,
        eq24TrainFloor: fl.train.eq24,
        lossGapFloor: Math.abs(lossGap - lossGapP) / Math.SQRT2,
      };
      if (!Object.values(final).every(Number.isFinite)) {
        status = 'diverged';
        final = null;
      }
    }
    const finalParams = job.keepParams
      ? (await Promise.all(trainer.netParams().flatMap((l) => [l.W.data(), l.b.data()]))) as Float32Array[]
      : undefined;
    return { status, stepsDone, log, final, flops: flopsPerStep * stepsDone, wallMs: Date.now() - started, finalParams };
  } finally {
    trainer.dispose();
  }
}
