// The linearized model of full-batch gradient descent with MSE, trained in function space
// (issue 20; docs/science.md, "f_lin in function space"). On a fixed train set X the parameter-space
// update delta <- delta - eta J(X)^T g, g = dL/df_lin(X), moves f_lin(x) = f0(x) + J(x) delta by
// exactly -eta J(x) J(X)^T g = -eta K(x, X) g for every x, with K the empirical NTK at theta0. So
// f_lin - f0 on every sample ever evaluated (the train set and the sets the loop reports on) is
// propagated directly: one K(X*, X) built once from per-layer Grams (model/ntk-gram.ts), then one
// [N dOut, n dOut] x [n dOut] product per step, instead of a JVP and a VJP through the network. The
// net is trained in parameter space as before (PairTrainer), on the same tensors every step.
//
// Everything reported is what the parameter-space path reports: f0 and theta0's trace on the fixed
// samples are computed once (order 3), f - f0 in difference form from that trace each time it is
// read, and f_lin - f0 is the propagated state (itself a difference form: never f_lin - f0 of two
// float32 outputs). The rounding floor needs f_lin - f0 in another summation order: a second K,
// from theta0 and the inputs renumbered by floorPermutations, evolved side by side (its matrix
// product per step is the only extra work).
import { tf } from '../model/backend.ts';
import {
  PairTrainer, backendMemoryLimitBytes, differenceFromTrace, disposeParams, forwardTrace, mseOfResidual, permuteParams, resolveSpec,
  type MlpSpec, type Params, type ResolvedSpec, type StepResult, type Trace,
} from '../model/mlp.ts';
import { ntkGramFromTraces } from '../model/ntk-gram.ts';
import type { DeviationArrays } from './metrics.ts';

/** A fixed set of samples: rows [count, dIn] and one-hot targets [count, dOut]. */
export interface FixedSet {
  x: Float32Array;
  y: Float32Array;
  count: number;
}

export interface FunctionSpaceOptions {
  lr: number;
  lossScale: number;
  /** the full batch: every step trains on exactly these samples */
  train: FixedSet;
  /** every other set deviations() will be asked for (the train set may be among them) */
  sets: readonly FixedSet[];
  /** the rounding floor's renumbering of each layer's inputs (data.ts floorPermutations) */
  perms: readonly Int32Array[];
}

/** A trace's tensors as one list (tf.tidy returns containers, not interfaces), and back. */
function traceTensors(t: Trace): tf.Tensor2D[] {
  return [...t.z, ...t.a, ...t.dphi.flat()];
}
function traceFrom(list: tf.Tensor2D[], depth: number, order: number): Trace {
  const z = list.slice(0, depth + 1);
  const a = list.slice(depth + 1, 2 * depth + 2);
  const d = list.slice(2 * depth + 2);
  return { z, a, dphi: Array.from({ length: depth }, (_, l) => d.slice(l * order, (l + 1) * order)) };
}

/** Rows [from, to) of every tensor of a trace (new tensors; no tidy). */
function traceRows(t: Trace, from: number, to: number): Trace {
  const rows = (x: tf.Tensor2D): tf.Tensor2D => x.slice([from, 0], [to - from, -1]);
  return { z: t.z.map(rows), a: t.a.map(rows), dphi: t.dphi.map((d) => d.map(rows)) };
}

/**
 * f_lin - f0 on all fixed samples in one summation order: theta0, its trace there, K and the state.
 * The train rows move every step (their loss drives the next); the other rows only matter when
 * read, so their update is deferred: -eta g of the steps since the last read is summed (one small
 * vector) and applied by one K(X_other, X) product at the read. By linearity that is the same
 * f_lin; only float32 rounding differs, and both evolutions do the same, so the floor still
 * compares two summation orders of one computation.
 */
class Evolution {
  private readonly trace: Trace;
  /** f0 - y on the train rows (the first nT): f_lin - y = this + dTrain */
  private readonly r0: tf.Tensor2D;
  /** K(X, X): [nT dOut, nT dOut]; rows follow (sample, output) like the reshapes below */
  private readonly kTrain: tf.Tensor2D;
  /** K(X_other, X): [(N - nT) dOut, nT dOut]; null when every row is a train row */
  private readonly kOther: tf.Tensor2D | null;
  /** f_lin - f0 on the train rows [nT, dOut] and on the others [N - nT, dOut] */
  private dTrain: tf.Tensor2D;
  private dOther: tf.Tensor2D | null;
  /** sum of -eta g over the steps not yet applied to dOther, [nT dOut, 1] */
  private pending: tf.Tensor2D | null = null;
  private readonly scale: number;

  /** Takes ownership of theta0 and xAll (rows: the train set first, nT of them); y: the train targets (not owned). */
  constructor(private readonly r: ResolvedSpec, readonly theta0: Params, xAll: tf.Tensor2D, private readonly nT: number, y: tf.Tensor2D, lr: number, private readonly lossScale: number) {
    const order = 3;
    const n = xAll.shape[0];
    this.trace = traceFrom(tf.tidy(() => traceTensors(forwardTrace(r, theta0, xAll, order))), r.depth, order);
    // The two blocks of K(X*, X) built apart, not sliced out of one: the wasm backend's slice
    // copies its whole input to the JS heap first. K(X, X) is symmetric (one backprop per output).
    const train = traceRows(this.trace, 0, nT);
    this.kTrain = tf.tidy(() => ntkGramFromTraces(r, theta0, train, train));
    this.kOther = n > nT ? tf.tidy(() => ntkGramFromTraces(r, theta0, traceRows(this.trace, nT, n), train)) : null;
    tf.dispose(traceTensors(train));
    this.r0 = tf.tidy(() => this.trace.z[r.depth].slice([0, 0], [nT, r.dOut]).sub(y));
    this.dTrain = tf.zeros([nT, r.dOut]);
    this.dOther = n > nT ? tf.zeros([n - nT, r.dOut]) : null;
    // -eta dL/df_lin with mseLoss's L = lossScale * mean: one constant, one multiply.
    this.scale = (-lr * 2 * lossScale) / (nT * r.dOut);
  }

  /**
   * f_lin's loss on the train rows before the update (a scalar, for the caller's tidy) when
   * `withLoss`, and the update f_lin - f0 <- f_lin - f0 - eta K g with g = dL/df_lin.
   */
  step(withLoss: boolean): tf.Scalar | null {
    const { nT } = this;
    const dOut = this.r.dOut;
    const diff = this.r0.add(this.dTrain) as tf.Tensor2D;
    const loss = withLoss ? mseOfResidual(diff, this.lossScale) : null;
    const v = diff.reshape([nT * dOut, 1]).mul(this.scale) as tf.Tensor2D;
    const old = this.dTrain;
    this.dTrain = tf.keep(old.add(tf.matMul(this.kTrain, v).reshape([nT, dOut])));
    old.dispose();
    if (this.kOther) {
      const prev = this.pending;
      this.pending = tf.keep(prev ? (prev.add(v) as tf.Tensor2D) : v);
      prev?.dispose();
    }
    return loss;
  }

  /** Applies the deferred updates to the other rows. */
  private flush(): void {
    if (!this.pending || !this.kOther || !this.dOther) return;
    const { kOther, pending } = this;
    const old = this.dOther;
    // Kept: deviations() runs inside the caller's tidy.
    this.dOther = tf.keep(tf.tidy(() => old.add(tf.matMul(kOther, pending).reshape(old.shape)) as tf.Tensor2D));
    tf.dispose([old, pending]);
    this.pending = null;
  }

  /** f0, f - f0 (difference form from theta0's trace) and f_lin - f0 on all rows. (No tidy.) */
  deviations(netDisp: Params): { f0: tf.Tensor2D; df: tf.Tensor2D; dlin: tf.Tensor2D } {
    this.flush();
    const dlin = this.dOther ? (tf.concat([this.dTrain, this.dOther], 0) as tf.Tensor2D) : this.dTrain.clone();
    return { f0: this.trace.z[this.r.depth].clone(), df: differenceFromTrace(this.r, this.theta0, this.trace, netDisp), dlin };
  }

  dispose(): void {
    tf.dispose([...traceTensors(this.trace), this.r0, this.kTrain, this.dTrain]);
    if (this.kOther) this.kOther.dispose();
    if (this.dOther) this.dOther.dispose();
    if (this.pending) this.pending.dispose();
    disposeParams(this.theta0);
  }
}

/**
 * The net (PairTrainer, parameter space) and f_lin (function space) trained side by side by
 * full-batch GD on one fixed set. Owns its tensors; theta0 is cloned.
 */
export class FunctionSpacePair {
  private readonly r: ResolvedSpec;
  private readonly net: PairTrainer;
  private readonly main: Evolution;
  private readonly permuted: Evolution;
  private readonly perms: readonly Int32Array[];
  private readonly xT: tf.Tensor2D;
  private readonly yT: tf.Tensor2D;
  /** each set's first row among the fixed samples */
  private readonly rows = new Map<FixedSet, number>();
  private readonly nAll: number;
  private readonly lr: number;
  private readonly lossScale: number;
  /** bumped by every step: the cached deviations below belong to one version */
  private version = 0;
  private cached: { version: number; permuted: boolean; d: DeviationArrays }[] = [];

  constructor(spec: MlpSpec, theta0: Params, opts: FunctionSpaceOptions) {
    const r = (this.r = resolveSpec(spec));
    this.lr = opts.lr;
    this.lossScale = opts.lossScale;
    this.perms = opts.perms;
    let n = 0;
    for (const s of [opts.train, ...opts.sets]) {
      if (this.rows.has(s)) continue;
      if (s.x.length !== s.count * r.dIn) throw new Error(`function-space training: a set of ${s.count} samples holds ${s.x.length} values, expected ${s.count} x ${r.dIn}`);
      this.rows.set(s, n);
      n += s.count;
    }
    this.nAll = n;
    const nT = opts.train.count;
    this.assertFits(nT);
    this.net = new PairTrainer(spec, theta0, { lr: opts.lr, lossScale: opts.lossScale, batch: nT });
    const xAll = new Float32Array(n * r.dIn);
    for (const [s, row] of this.rows) xAll.set(s.x, row * r.dIn);
    this.xT = tf.tensor2d(opts.train.x, [nT, r.dIn]);
    this.yT = tf.tensor2d(opts.train.y, [nT, r.dOut]);
    this.main = new Evolution(r, tf.tidy(() => theta0.map((l) => ({ W: l.W.clone(), b: l.b.clone() }))), tf.tensor2d(xAll, [n, r.dIn]), nT, this.yT, this.lr, this.lossScale);
    const pTheta = tf.tidy(() => permuteParams(theta0, this.perms));
    const pX = tf.tidy(() => tf.gather(tf.tensor2d(xAll, [n, r.dIn]), tf.tensor1d(this.perms[0]!, 'int32'), 1) as tf.Tensor2D);
    this.permuted = new Evolution(r, pTheta, pX, nT, this.yT, this.lr, this.lossScale);
  }

  /** Two K(X*, X) of [N dOut, nT dOut] float32 (and their build's temporaries) must fit the backend. */
  private assertFits(nT: number): void {
    const bytes = 2 * 3 * 4 * this.nAll * this.r.dOut * nT * this.r.dOut;
    const lim = backendMemoryLimitBytes();
    if (bytes > lim.bytes) {
      throw new Error(`function-space training of ${nT} train and ${this.nAll - nT} other samples needs about ${(bytes / 1024 ** 3).toFixed(2)} GiB ` +
        `for its two NTK matrices, more than the backend can hold (${lim.why}): train the linearization in parameter space (linearization: 'parameter')`);
    }
  }

  /** One full-batch step of the net and of f_lin; losses before the update. */
  async step(): Promise<StepResult> {
    const lossNet = await this.net.stepNetAsync(this.xT, this.yT);
    const loss = tf.tidy(() => {
      this.permuted.step(false);
      return this.main.step(true)!;
    });
    this.version++;
    const lossLin = (await loss.data())[0]!;
    loss.dispose();
    return { lossNet, lossLin };
  }

  /** f0, f - f0 and f_lin - f0 on `set` (one of the sets given to the constructor); `permuted`: in the floor's summation order. */
  async deviations(set: FixedSet, permuted = false): Promise<DeviationArrays> {
    const row = this.rows.get(set);
    if (row === undefined) throw new Error('function-space training: deviations asked for a set that was not given to the constructor');
    let hit = this.cached.find((c) => c.version === this.version && c.permuted === permuted);
    if (!hit) {
      hit = { version: this.version, permuted, d: await this.readAll(permuted) };
      this.cached = [...this.cached.filter((c) => c.version === this.version), hit];
    }
    const dOut = this.r.dOut;
    const part = (a: Float32Array): Float32Array => a.subarray(row * dOut, (row + set.count) * dOut);
    return { f0: part(hit.d.f0), df: part(hit.d.df), dlin: part(hit.d.dlin) };
  }

  private async readAll(permuted: boolean): Promise<DeviationArrays> {
    const d = tf.tidy(() => {
      if (!permuted) return this.main.deviations(this.net.netDisplacement());
      return this.permuted.deviations(permuteParams(this.net.netDisplacement(), this.perms));
    });
    try {
      const [f0, df, dlin] = (await Promise.all([d.f0.data(), d.df.data(), d.dlin.data()])) as Float32Array[];
      return { f0: f0!, df: df!, dlin: dlin! };
    } finally {
      tf.dispose([d.f0, d.df, d.dlin]);
    }
  }

  /** Current net parameters (owned by the trainer; valid until the next step). */
  netParams(): Params {
    return this.net.netParams();
  }

  dispose(): void {
    this.net.dispose();
    this.main.dispose();
    this.permuted.dispose();
    tf.dispose([this.xT, this.yT]);
  }
}
