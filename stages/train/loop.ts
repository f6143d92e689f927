// Trains a net and its linearization side by side and measures how far apart they drift.
import { InterruptedError } from '../../pipeline/engine/errors.ts';
import { tf } from '../model/backend.ts';
import { yieldToEventLoop } from '../model/yield.ts';
import { PairTrainer, deviations, disposeParams, initParams, permuteParams, resolveSpec, type Deviations, type MlpSpec, type Params, type StepResult } from '../model/mlp.ts';
import { floorPermutations } from './data.ts';
import { FunctionSpacePair } from './function-space.ts';
import { kernelDrift } from '../model/kernel-drift.ts';
import { accuracy, eq24, floorOf, lossDifference, mseBetween, mseLossValue, outputsOf, stepFlops, type DeviationArrays } from './metrics.ts';

/** Where the linearized model is trained: parameter space (JVP + VJP) or function space (the NTK). */
export type Linearization = 'parameter' | 'function';

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
  /** On the monitored test samples, after the step: mean ||f - f_lin||^2 (Eq. 30) and the losses of f and f_lin (Corollary 4.0.1's hypothesis) */
  mseMonitor: number;
  testLossNet: number;
  testLossLin: number;
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
    /** On the final test set: sqrt(mean ||f_S - f_0||^2), how far f itself moved, and sqrt(mseTest) relative to it */
    fMoveTest: number;
    linRelTest: number;
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
  /** Only with TrainJob.kernelDrift: ||Theta_S - Theta_0||_F / ||Theta_0||_F on the first final test samples (kernel-drift.ts) */
  kernelDrift?: number;
  finalParams?: Float32Array[];
  /** Only with TrainJob.comparePlain: MSE_test from two plain float32 forward passes, f and f_lin (bench/precision.ts) */
  plain?: { mseTest: number };
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
  /**
   * How f_lin is trained. 'parameter': a JVP and a VJP at theta0 every step (PairTrainer).
   * 'function': f_lin - f0 propagated by the empirical NTK, exact for full-batch GD with MSE
   * (function-space.ts); needs fullBatch. Default 'parameter'.
   */
  linearization?: Linearization;
  /** Full-batch GD: every nextBatch() returns exactly this set (the function-space path needs it) */
  fullBatch?: EvalSet;
  /** Also measure the empirical NTK's relative drift after training on the first DRIFT_SAMPLES final test samples */
  kernelDrift?: boolean;
  /** Also measure MSE_test the plain way (f and f_lin each a float32 forward pass), for comparisons */
  comparePlain?: boolean;
  progress(step: number, total: number, message?: string): void;
  signal?: AbortSignal;
}

const EVAL_CHUNK = 1000;
/** Test samples the kernel drift is measured on (a [64 dOut]^2 Gram: cheap next to training). */
export const DRIFT_SAMPLES = 64;

/** ||Theta_S - Theta_0||_F / ||Theta_0||_F on the first DRIFT_SAMPLES rows of `set`; theta0 drawn again from the seed. */
async function driftOn(job: TrainJob, thetaS: Params, set: EvalSet): Promise<number> {
  const n = Math.min(DRIFT_SAMPLES, set.count);
  const dIn = job.spec.dIn;
  const theta0 = initParams(job.spec, job.seed);
  const x = tf.tensor2d(set.x.subarray(0, n * dIn), [n, dIn]);
  try {
    return await kernelDrift(job.spec, theta0, thetaS, x);
  } finally {
    x.dispose();
    disposeParams(theta0);
  }
}

// Reads are asynchronous throughout: WebGPU in Node has no synchronous readback.
async function readDeviations(d: Deviations): Promise<DeviationArrays> {
  try {
    const [f0, df, dlin] = (await Promise.all([d.f0.data(), d.df.data(), d.dlin.data()])) as Float32Array[];
    return { f0: f0!, df: df!, dlin: dlin! };
  } finally {
    tf.dispose([d.f0, d.df, d.dlin]);
  }
}

/**
 * f0, f - f0 and f_lin - f0 on `set` (difference form, issue 26), in chunks; `predict` gets each
 * chunk's rows (the input features possibly reordered by `cols`).
 */
async function deviationsOn(set: EvalSet, dIn: number, predict: (x: tf.Tensor2D) => Deviations, cols?: tf.Tensor1D): Promise<DeviationArrays> {
  const out: DeviationArrays = { f0: new Float32Array(set.count * 10), df: new Float32Array(set.count * 10), dlin: new Float32Array(set.count * 10) };
  for (let start = 0; start < set.count; start += EVAL_CHUNK) {
    const rows = Math.min(EVAL_CHUNK, set.count - start);
    const d = tf.tidy(() => {
      const x = tf.tensor2d(set.x.subarray(start * dIn, (start + rows) * dIn), [rows, dIn]);
      return predict(cols ? (tf.gather(x, cols, 1) as tf.Tensor2D) : x);
    });
    const h = await readDeviations(d);
    out.f0.set(h.f0, start * 10);
    out.df.set(h.df, start * 10);
    out.dlin.set(h.dlin, start * 10);
  }
  return out;
}

/** The difference-form pair (f - f0, f_lin - f0), whose difference is f - f_lin (metrics.ts). */
function pair(d: DeviationArrays): { f: Float32Array; flin: Float32Array } {
  return { f: d.df, flin: d.dlin };
}

/**
 * The same deviations with every sum taken in another order: the hidden units and input features
 * renumbered by a fixed random permutation (permuteParams) of theta0, the net's displacement and
 * f_lin's delta together. Same parameters, same function; only float32 rounding differs. Three
 * permuted parameter copies live at once (estimatePeakBytes counts them).
 */
async function deviationsPermuted(trainer: PairTrainer, set: EvalSet, r: ReturnType<typeof resolveSpec>): Promise<DeviationArrays> {
  const perms = floorPermutations(r.sizes);
  const idx0 = tf.tensor1d(perms[0]!, 'int32');
  const L = r.depth + 1;
  const p: Params = tf.tidy(() => [
    ...permuteParams(trainer.initialParams(), perms),
    ...permuteParams(trainer.netDisplacement(), perms),
    ...permuteParams(trainer.linDelta(), perms),
  ]);
  try {
    return await deviationsOn(set, r.dIn, (x) => deviations(r, p.slice(0, L), p.slice(L, 2 * L), p.slice(2 * L), x), idx0);
  } finally {
    disposeParams(p);
    idx0.dispose();
  }
}

/** MSE_test the plain way: f and f_lin each from a float32 forward pass, then subtracted. */
async function plainMse(trainer: PairTrainer, set: EvalSet, dIn: number): Promise<number> {
  let sum = 0;
  for (let start = 0; start < set.count; start += EVAL_CHUNK) {
    const rows = Math.min(EVAL_CHUNK, set.count - start);
    const [pn, pl] = tf.tidy(() => {
      const x = tf.tensor2d(set.x.subarray(start * dIn, (start + rows) * dIn), [rows, dIn]);
      return [trainer.predictNet(x), trainer.predictLin(x)];
    });
    sum += mseBetween((await pn.data()) as Float32Array, (await pl.data()) as Float32Array) * rows;
    tf.dispose([pn, pl]);
  }
  return sum / set.count;
}

async function batchDiscrepancy(trainer: PairTrainer, x: tf.Tensor2D): Promise<number> {
  const d = await readDeviations(trainer.predictDeviations(x));
  return mseBetween(d.df, d.dlin);
}

/** What the loop needs of the net and f_lin, whichever space f_lin is trained in. */
interface SideBySide {
  /** mean ||f - f_lin||^2 on the batch before its update when `logged` (else NaN), then one step of both models */
  step(batch: { x: Float32Array; y: Float32Array }, logged: boolean): Promise<StepResult & { mseBatch: number }>;
  /** f0, f - f0 and f_lin - f0 on a set, in difference form; `permuted`: with every sum in the floor's order */
  deviations(set: EvalSet, permuted?: boolean): Promise<DeviationArrays>;
  netParams(): Params;
  plainMse(set: EvalSet): Promise<number>;
  dispose(): void;
}

/** f_lin in parameter space: PairTrainer, a JVP and a VJP at theta0 every step. */
function parameterSpace(job: TrainJob, r: ReturnType<typeof resolveSpec>): SideBySide {
  const theta0 = initParams(job.spec, job.seed);
  const trainer = new PairTrainer(job.spec, theta0, { lr: job.lr, lossScale: job.lossScale, batch: job.batch });
  disposeParams(theta0);
  return {
    async step(batch, logged) {
      const xt = tf.tensor2d(batch.x, [job.batch, r.dIn]);
      const yt = tf.tensor2d(batch.y, [job.batch, 10]);
      try {
        // Predictions only read the parameters: the training arithmetic is unchanged.
        const mseBatch = logged ? await batchDiscrepancy(trainer, xt) : NaN;
        return { ...(await trainer.stepAsync(xt, yt)), mseBatch };
      } finally {
        xt.dispose();
        yt.dispose();
      }
    },
    deviations: (set, permuted) => (permuted ? deviationsPermuted(trainer, set, r) : deviationsOn(set, r.dIn, (x) => trainer.predictDeviations(x))),
    netParams: () => trainer.netParams(),
    plainMse: (set) => plainMse(trainer, set, r.dIn),
    dispose: () => trainer.dispose(),
  };
}

/** f_lin in function space (function-space.ts): full-batch GD on job.fullBatch only. */
function functionSpace(job: TrainJob, r: ReturnType<typeof resolveSpec>): SideBySide {
  const train = job.fullBatch;
  if (!train) throw new Error('function-space linearization needs full-batch training (TrainJob.fullBatch): use linearization \'parameter\'');
  if (train.count !== job.batch) throw new Error(`function-space linearization: the full batch holds ${train.count} samples, but the job's batch is ${job.batch}`);
  if (job.comparePlain) throw new Error('comparePlain measures f_lin from a JVP: use linearization \'parameter\'');
  const theta0 = initParams(job.spec, job.seed);
  let pair: FunctionSpacePair;
  try {
    pair = new FunctionSpacePair(job.spec, theta0, {
      lr: job.lr, lossScale: job.lossScale, train,
      sets: [job.monitorTrain, job.monitorTest, job.finalTrain, job.finalTest], perms: floorPermutations(r.sizes),
    });
  } finally {
    disposeParams(theta0);
  }
  return {
    async step(batch, logged) {
      if (batch.x !== train.x || batch.y !== train.y) throw new Error('function-space linearization: nextBatch() returned another set than TrainJob.fullBatch');
      let mseBatch = NaN;
      if (logged) {
        const d = await pair.deviations(train);
        mseBatch = mseBetween(d.df, d.dlin);
      }
      return { ...(await pair.step()), mseBatch };
    },
    deviations: (set, permuted) => pair.deviations(set, permuted),
    netParams: () => pair.netParams(),
    plainMse: () => Promise.reject(new Error('unreachable: comparePlain is refused above')),
    dispose: () => pair.dispose(),
  };
}

export async function trainSideBySide(job: TrainJob): Promise<TrainOutcome> {
  const started = Date.now();
  const r = resolveSpec(job.spec);
  const trainer = (job.linearization ?? 'parameter') === 'function' ? functionSpace(job, r) : parameterSpace(job, r);
  const log: LogRow[] = [];
  const flopsPerStep = stepFlops(r.sizes, job.batch);
  let status: 'ok' | 'diverged' = 'ok';
  let stepsDone = 0;
  try {
    const monitor = async (step: number, lossNet: number, lossLin: number, mseBatch: number): Promise<void> => {
      const tr = await trainer.deviations(job.monitorTrain);
      const te = await trainer.deviations(job.monitorTest);
      log.push({
        step, lossNet, lossLin, eq24Train: eq24(tr.df, tr.dlin), eq24Test: eq24(te.df, te.dlin), mseBatch,
        mseMonitor: mseBetween(te.df, te.dlin),
        testLossNet: mseLossValue(outputsOf(te.f0, te.df), job.monitorTest.y, job.lossScale),
        testLossLin: mseLossValue(outputsOf(te.f0, te.dlin), job.monitorTest.y, job.lossScale),
      });
    };
    for (let step = 0; step < job.steps; step++) {
      await yieldToEventLoop();
      if (job.signal?.aborted) throw new InterruptedError();
      const logged = step % job.logEvery === 0;
      const { lossNet, lossLin, mseBatch } = await trainer.step(job.nextBatch(), logged);
      if (!Number.isFinite(lossNet) || !Number.isFinite(lossLin)) {
        status = 'diverged';
        log.push({ step, lossNet, lossLin, eq24Train: NaN, eq24Test: NaN, mseBatch, mseMonitor: NaN, testLossNet: NaN, testLossLin: NaN });
        break;
      }
      stepsDone = step + 1;
      if (logged) await monitor(step, lossNet, lossLin, mseBatch);
      job.progress(stepsDone, job.steps, `loss ${lossNet.toPrecision(3)} / lin ${lossLin.toPrecision(3)}`);
    }
    let final: TrainOutcome['final'] = null;
    if (status === 'ok') {
      // Every deviation in difference form (issue 26): f - f_lin = (f - f0) - (f_lin - f0), with
      // f - f0 propagated as its own quantity and f_lin - f0 the JVP (or, in function space, the
      // NTK-propagated state), so it keeps eps relative to |f - f0| instead of to |f|; the loss gap
      // likewise (lossDifference). Losses and accuracies need only eps relative to |f|: they read
      // f = f0 + (f - f0).
      const tr = await trainer.deviations(job.finalTrain);
      const te = await trainer.deviations(job.finalTest);
      const [trF, trFlin, teF, teFlin] = [outputsOf(tr.f0, tr.df), outputsOf(tr.f0, tr.dlin), outputsOf(te.f0, te.df), outputsOf(te.f0, te.dlin)];
      const trainLossNet = mseLossValue(trF, job.finalTrain.y, job.lossScale);
      const trainLossLin = mseLossValue(trFlin, job.finalTrain.y, job.lossScale);
      const lossGap = Math.abs(lossDifference(tr, job.finalTrain.y, job.lossScale));
      // The rounding floor, measured on this run: the same quantities with every sum in another
      // order (deviationsPermuted; in function space, f_lin - f0 evolved with a K built in that
      // order). Parameter updates are stored exactly (PairTrainer), so what is left of float32 is
      // the evaluation's rounding, and its size is what two orders differ by.
      // (f - f_lin with both at theta0 would read 0: the two evaluations are then bit-identical.)
      const trP = await trainer.deviations(job.finalTrain, true);
      const teP = await trainer.deviations(job.finalTest, true);
      const lossGapP = Math.abs(lossDifference(trP, job.finalTrain.y, job.lossScale));
      const fl = { test: floorOf(pair(te), pair(teP)), train: floorOf(pair(tr), pair(trP)) };
      const mseTest = mseBetween(te.df, te.dlin);
      const fMoveTest = Math.sqrt(mseBetween(te.df, new Float32Array(te.df.length)));
      final = {
        trainLossNet,
        trainLossLin,
        testLossNet: mseLossValue(teF, job.finalTest.y, job.lossScale),
        testLossLin: mseLossValue(teFlin, job.finalTest.y, job.lossScale),
        lossGap,
        lossGapRel: lossGap / trainLossNet,
        eq24Train: eq24(tr.df, tr.dlin),
        eq24Test: eq24(te.df, te.dlin),
        mseTest,
        fMoveTest,
        linRelTest: Math.sqrt(mseTest) / fMoveTest,
        testCount: job.finalTest.count,
        testAccNet: accuracy(teF, job.finalTest.y),
        testAccLin: accuracy(teFlin, job.finalTest.y),
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
    const plain = job.comparePlain && status === 'ok' ? { mseTest: await trainer.plainMse(job.finalTest) } : undefined;
    const drift = job.kernelDrift && status === 'ok' ? await driftOn(job, trainer.netParams(), job.finalTest) : undefined;
    return { status, stepsDone, log, final, flops: flopsPerStep * stepsDone, wallMs: Date.now() - started, kernelDrift: drift, finalParams, plain };
  } finally {
    trainer.dispose();
  }
}
