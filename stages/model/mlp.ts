// Fully connected network d_in -> n (x L) -> d_out with explicit forward, JVP (tangent
// propagation) and VJP (backprop), and SGD on the net and on its first-order linearization.
//
// Layout: layer l (0-based, l = 0..L) has W_l [fanIn, fanOut] (row-major, z = a @ W) and
// b_l [fanOut]. z_l = c_l * (a_l @ W_l) + s_l * b_l, a_0 = x, a_{l+1} = phi(z_l) for l < L,
// f = z_L (linear output layer).
//   NTK:      c_l = sigma_w / sqrt(fanIn), s_l = sigma_b, W, b ~ N(0, 1) (raw, unscaled).
//   standard: c_l = 1, s_l = 1, W, b ~ U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (PyTorch nn.Linear).
//   meanfield: as NTK, but the output layer has c_L = sigma_w / fanIn and s_L = sigma_b / sqrt(fanIn) (spec.ts).
// A PyTorch nn.Linear holds weight = W_l^T ([fanOut, fanIn]) and bias = b_l.
// Flat parameter order (used for index sets): W_0 row-major, b_0, W_1, b_1, ..., W_L, b_L.
//
// wasm speed: matMul(a, b, false, true) / (true, false) are far slower than plain matMul, and
// an n x n transpose costs more than the matmul itself, so backprop computes
// delta @ W^T as transpose(W @ transpose(delta)): only batch x n matrices are transposed. A backend
// whose matmul reads transposed operands in place (blas: CblasTrans) gets the flags instead.
import { deviceLimitsOf, maxArrayBytesOf, memoryLimitOf, tf } from './backend.ts';
import { activationDelta, activationDerivs, addColSum, addOuter, affine, backDelta, mseLoss, tangentAffine } from './layer-ops.ts';
import { paramCounts, resolveSpec, type MlpSpec, type ResolvedSpec } from './spec.ts';
import { Rng, fillNormal, fillUniform, hashKey } from './prng.ts';

export { paramCounts, resolveSpec, type MlpSpec, type Parameterization, type ResolvedSpec } from './spec.ts';
export { mseLoss, mseOfResidual } from './layer-ops.ts';

// ---------------------------------------------------------------- parameters

export interface HostLayer {
  fanIn: number;
  fanOut: number;
  /** row-major [fanIn, fanOut] */
  W: Float32Array;
  b: Float32Array;
}

// A type alias (not an interface) so a Params is a tf.TensorContainer that tf.tidy can return.
export type Layer = {
  W: tf.Tensor2D;
  b: tf.Tensor1D;
};
/** One entry per layer l = 0..L. Also used for tangents, gradients and parameter deltas. */
export type Params = Layer[];

/**
 * Deterministic initial parameters as raw Float32Arrays. Each tensor has its own stream,
 * keyed by hashKey([seed, l, 0 for W | 1 for b]) (see prng.ts), so a layer's values do not
 * depend on the other layers' sizes. Elements are drawn in row-major order; NTK and mean-field draw
 * N(0,1) (Box-Muller), standard draws U(-1/sqrt(fanIn), 1/sqrt(fanIn)); float64 draws are
 * rounded to float32. Same seed gives the same bits on every backend.
 */
export function initHostParams(spec: MlpSpec, seed: number): HostLayer[] {
  const r = resolveSpec(spec);
  const layers: HostLayer[] = [];
  for (let l = 0; l <= r.depth; l++) {
    const fanIn = r.sizes[l];
    const fanOut = r.sizes[l + 1];
    const W = new Float32Array(fanIn * fanOut);
    const b = new Float32Array(fanOut);
    const rw = new Rng(hashKey([seed, l, 0]));
    const rb = new Rng(hashKey([seed, l, 1]));
    if (r.parameterization !== 'standard') {
      fillNormal(rw, W);
      fillNormal(rb, b);
    } else {
      const bound = 1 / Math.sqrt(fanIn);
      fillUniform(rw, W, bound);
      fillUniform(rb, b, bound);
    }
    layers.push({ fanIn, fanOut, W, b });
  }
  return layers;
}

export function hostToParams(host: readonly HostLayer[]): Params {
  return host.map((h) => ({ W: tf.tensor2d(h.W, [h.fanIn, h.fanOut], 'float32'), b: tf.tensor1d(h.b, 'float32') }));
}

export async function paramsToHost(params: Params): Promise<HostLayer[]> {
  const out: HostLayer[] = [];
  for (const p of params) {
    const [fanIn, fanOut] = p.W.shape;
    out.push({ fanIn, fanOut, W: (await p.W.data()) as Float32Array, b: (await p.b.data()) as Float32Array });
  }
  return out;
}

export function initParams(spec: MlpSpec, seed: number): Params {
  return hostToParams(initHostParams(spec, seed));
}

export function disposeParams(p: Params): void {
  for (const l of p) {
    l.W.dispose();
    l.b.dispose();
  }
}

export function cloneParams(p: Params): Params {
  return p.map((l) => ({ W: l.W.clone(), b: l.b.clone() }));
}

export function zerosLikeParams(p: Params): Params {
  return p.map((l) => ({ W: tf.zerosLike(l.W), b: tf.zerosLike(l.b) }));
}

// ---------------------------------------------------------------- forward / JVP / VJP

/** Intermediate values of one forward pass. a[0] is the caller's x (not owned). */
export interface Trace {
  /** z[l], l = 0..L, [batch, n_{l+1}]; z[L] is the output f */
  z: tf.Tensor2D[];
  /** a[l], l = 0..L: a[0] = x, a[l+1] = phi(z[l]) */
  a: tf.Tensor2D[];
  /** dphi[l][k - 1] = phi^(k)(z[l]) for k = 1..order, l = 0..L-1 (empty for order 0) */
  dphi: tf.Tensor2D[][];
}

/** How many derivatives of phi a forward trace keeps: training needs phi', Taylor mode phi'' and phi'''. */
export type DerivOrder = 0 | 1 | 2 | 3;

/** Forward pass keeping the trace with phi^(1..order) (no tidy: caller tidies). */
export function forwardTrace(spec: MlpSpec | ResolvedSpec, params: Params, x: tf.Tensor2D, order: DerivOrder = 0): Trace {
  const r = resolveSpec(spec);
  const z: tf.Tensor2D[] = [];
  const a: tf.Tensor2D[] = [x];
  const dphi: tf.Tensor2D[][] = [];
  for (let l = 0; l <= r.depth; l++) {
    const zl = affine(a[l], params[l].W, r.wScale[l], params[l].b, r.bScale[l]);
    z.push(zl);
    if (l < r.depth) {
      const [f, ...d] = activationDerivs(r.activation, zl, order);
      a.push(f);
      if (order > 0) dphi.push(d);
    }
  }
  return { z, a, dphi };
}

/** f(x; params), [batch, dOut]. */
export function forward(spec: MlpSpec, params: Params, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const t = forwardTrace(spec, params, x);
    return t.z[t.z.length - 1];
  });
}

/** J(x) . tangent from a trace with dphi (no tidy). */
function tangentFromTrace(r: ResolvedSpec, params: Params, trace: Trace, tangent: Params): tf.Tensor2D {
  let da: tf.Tensor2D | null = null;
  for (let l = 0; l <= r.depth; l++) {
    // dz = c (da @ W + a @ dW) + s db; da_0 = 0 since x does not depend on theta; da_{l+1} = phi'(z_l) dz.
    const out = tangentAffine(trace.a[l], tangent[l].W, da, params[l].W, r.wScale[l], tangent[l].b, r.bScale[l], l < r.depth ? trace.dphi[l][0] : undefined);
    if (l === r.depth) return out;
    da = out;
  }
  throw new Error('unreachable: a net has an output layer');
}

/** One layer's gradient in factored form: alphaW a^T delta for W_l, alphaB (column sums of delta) for b_l. */
export interface LayerGrad {
  a: tf.Tensor2D;
  delta: tf.Tensor2D;
  alphaW: number;
  alphaB: number;
}

/**
 * Backprop a cotangent [batch, dOut] through a trace with dphi. Calls onLayer(l, g) from the last
 * layer to the first, where g factors gW = c_l a_l^T delta_l * gScale and gb = s_l sum(delta_l) * gScale
 * (layer-ops.ts forms or applies them, fused where the backend can); W_l is no longer needed by the
 * time onLayer(l) runs, so the caller may replace it there. (No tidy.)
 */
function backpropFromTrace(r: ResolvedSpec, params: Params, trace: Trace, cot: tf.Tensor2D, gScale: number, onLayer: (l: number, g: LayerGrad) => void): void {
  let delta = cot;
  for (let l = r.depth; l >= 0; l--) {
    const c = r.wScale[l];
    // delta_{l-1} = c (delta W^T) * phi'(z_{l-1}).
    const next = l > 0 ? backDelta(delta, params[l].W, c, trace.dphi[l - 1][0]) : null;
    onLayer(l, { a: trace.a[l], delta, alphaW: c * gScale, alphaB: r.bScale[l] * gScale });
    if (next) delta = next;
  }
}

/** Returns { out: f(x), jvp: J(x; params) . tangent }, both [batch, dOut]. Never forms J. */
export function jvp(spec: MlpSpec, params: Params, x: tf.Tensor2D, tangent: Params): { out: tf.Tensor2D; jvp: tf.Tensor2D } {
  const r = resolveSpec(spec);
  return tf.tidy(() => {
    const trace = forwardTrace(r, params, x, 1);
    return { out: trace.z[r.depth], jvp: tangentFromTrace(r, params, trace, tangent) };
  });
}

/** Parameter gradient of sum_{b,i} cot[b,i] f_i(x_b): J(x)^T cot. */
export function vjp(spec: MlpSpec, params: Params, x: tf.Tensor2D, cot: tf.Tensor2D): Params {
  const r = resolveSpec(spec);
  return tf.tidy(() => {
    const trace = forwardTrace(r, params, x, 1);
    const grads: Params = new Array(r.depth + 1);
    backpropFromTrace(r, params, trace, cot, 1, (l, g) => {
      grads[l] = { W: addOuter(null, g.a, g.delta, g.alphaW).sum, b: addColSum(null, g.delta, g.alphaB).sum };
    });
    return grads;
  });
}

/**
 * f(x; theta0 + disp) - f(x; theta0) in difference form (issue 26), from a trace at theta0 with
 * phi', phi'', phi''' (order 3): layer by layer the difference from the reference network is
 * propagated as a quantity of its own,
 *   dz_l = c_l (da_l W0_l + (a0_l + da_l) dW_l) + s_l db_l,   da_0 = 0,
 *   da_{l+1} = phi(z0_l + dz_l) - phi(z0_l)   (Activation.delta: Taylor series or direct),
 * so the result is accurate relative to itself (~eps |f - f0|), not to |f| as f(theta0 + disp) - f0
 * computed from two float32 forward passes would be. (No tidy.)
 */
export function differenceFromTrace(r: ResolvedSpec, theta0: Params, trace: Trace, disp: Params): tf.Tensor2D {
  let da: tf.Tensor2D | null = null;
  let dz: tf.Tensor2D | null = null;
  for (let l = 0; l <= r.depth; l++) {
    dz = tangentAffine(da ? (trace.a[l].add(da) as tf.Tensor2D) : trace.a[l], disp[l].W, da, theta0[l].W, r.wScale[l], disp[l].b, r.bScale[l]);
    if (l < r.depth) da = activationDelta(r.activation, trace.z[l], trace.a[l + 1], trace.dphi[l], dz);
  }
  return dz as tf.Tensor2D;
}

/** The two models' outputs relative to f0 = f(x; theta0), each accurate relative to itself (a type, so tf.tidy can return it). */
export type Deviations = {
  /** f(x; theta0), [batch, dOut] */
  f0: tf.Tensor2D;
  /** f(x; theta0 + netDisp) - f0 in difference form */
  df: tf.Tensor2D;
  /** f_lin(x) - f0 = J(x; theta0) linDelta (the JVP) */
  dlin: tf.Tensor2D;
};

/**
 * f - f0 (difference form) and f_lin - f0 (JVP) from one forward trace at theta0: f - f_lin =
 * df - dlin then loses only eps relative to |f - f0|, not to |f| (issue 26).
 */
export function deviations(spec: MlpSpec | ResolvedSpec, theta0: Params, netDisp: Params, linDelta: Params, x: tf.Tensor2D): Deviations {
  const r = resolveSpec(spec);
  return tf.tidy(() => {
    const trace = forwardTrace(r, theta0, x, 3);
    return { f0: trace.z[r.depth], df: differenceFromTrace(r, theta0, trace, netDisp), dlin: tangentFromTrace(r, theta0, trace, linDelta) };
  });
}

/** f_lin(x) = f(x; theta0) + J(x; theta0) delta. */
export function linearizedForward(spec: MlpSpec, theta0: Params, delta: Params, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const o = jvp(spec, theta0, x, delta);
    return o.out.add(o.jvp);
  });
}

/**
 * The same function with its sums taken in another order: hidden units (and input features)
 * renumbered by `perms` (perms[l] for l = 0..L permutes layer l's inputs; the outputs keep their
 * order). Rows of W_l follow perms[l], columns and b_l follow perms[l + 1]; feed the input with
 * its columns gathered by perms[0]. f is unchanged in exact arithmetic; in float32 every matmul
 * sums in another order, which is what the rounding-floor measurement needs. (No tidy.)
 */
export function permuteParams(params: Params, perms: readonly Int32Array[]): Params {
  return params.map((p, l) => {
    const rows = tf.gather(p.W, tf.tensor1d(perms[l]!, 'int32'), 0);
    const out = perms[l + 1];
    return out
      ? { W: tf.gather(rows, tf.tensor1d(out, 'int32'), 1) as tf.Tensor2D, b: tf.gather(p.b, tf.tensor1d(out, 'int32')) as tf.Tensor1D }
      : { W: rows as tf.Tensor2D, b: p.b.clone() };
  });
}

// ---------------------------------------------------------------- loss and training

export interface LossOptions {
  /** loss = scale * mean over batch x outputs of (f - y)^2; 1 = PyTorch MSELoss, 0.5 = A.1 code */
  lossScale?: number;
}

export interface TrainerOptions extends LossOptions {
  /** SGD learning rate */
  lr: number;
  /** batch size used for the up-front memory check (default 128; larger batches are re-checked) */
  batch?: number;
  /** skip the memory check (estimatePeakBytes vs backend limit) */
  skipMemoryCheck?: boolean;
}

async function readScalar(t: tf.Scalar): Promise<number> {
  const v = (await t.data())[0];
  t.dispose();
  return v;
}

export interface StepResult {
  /** losses on this batch before the update */
  lossNet: number;
  lossLin: number;
}

/**
 * The net and its linearization trained side by side with plain SGD from the same theta0.
 * Both models store their displacement from theta0, never absolute parameters: the net as
 * netDelta = theta - theta0, the linearized model as delta = theta_lin - theta0. SGD adds its
 * update to the displacement, whose float32 ulp is that of the (small) displacement, so updates
 * far below ulp(theta0) (eta = 0.1 n^alpha at small alpha) are kept instead of being rounded
 * away step after step (issue 19). The net is evaluated at fl(theta0 + netDelta), recomputed
 * from the exact parts after every update (`net`, a cache): its error is one rounding of each
 * weight (<= ulp(W)/2, relative 2^-24), fresh each step and never accumulated, the same size as
 * the rounding of float32 W itself and of the float32 matmul that reads it; split evaluation
 * (W0 a + dW a) would cost one more matmul per layer in both forward and backprop for no gain
 * over that matmul rounding (bench/precision.ts compares both with float64).
 * What is reported is evaluated in difference form (predictDeviations, issue 26); training keeps
 * this plain forward pass. Its rounding perturbs each step's gradients by ~eps relative, in errors
 * that differ from sample to sample and mostly from step to step, so they move f - f0 by about
 * eps |f - f0| / sqrt(samples seen) and f - f_lin by less: far below any f - f_lin that the
 * difference form resolves. Measured: at width 256 / 512, alpha = -1.5 (true MSE_test 7.3e-16 /
 * 7.6e-18, below the plain evaluation's floor) the difference form agrees with float64 training
 * to 1e-4 relative (test/train/float64-reference.test.ts, bench/precision.ts). Owns its tensors.
 */
export class PairTrainer {
  readonly spec: ResolvedSpec;
  readonly lr: number;
  readonly lossScale: number;
  private theta0: Params;
  /** theta0 + netDelta, rounded once; recomputed after every net update (never updated in place) */
  private net: Params;
  /** theta - theta0: what SGD updates for the net */
  private netDelta: Params;
  private delta: Params;
  private checkedBatch: number;
  private readonly skipCheck: boolean;

  /** theta0 is cloned: the caller keeps ownership of its tensors. */
  constructor(spec: MlpSpec, theta0: Params, opts: TrainerOptions) {
    this.spec = resolveSpec(spec);
    this.lr = opts.lr;
    this.lossScale = opts.lossScale ?? 1;
    this.skipCheck = opts.skipMemoryCheck ?? false;
    this.checkedBatch = opts.batch ?? 128;
    if (!this.skipCheck) assertFitsBackend(this.spec, this.checkedBatch, 'pair');
    this.theta0 = cloneParams(theta0);
    this.net = cloneParams(theta0);
    this.netDelta = zerosLikeParams(theta0);
    this.delta = zerosLikeParams(theta0);
  }

  /** Current net parameters (owned by the trainer; valid until the next step). */
  netParams(): Params {
    return this.net;
  }
  /** theta - theta0 of the net (owned by the trainer; valid until the next step). */
  netDisplacement(): Params {
    return this.netDelta;
  }
  /** theta_lin - theta0 (owned by the trainer; valid until the next step). */
  linDelta(): Params {
    return this.delta;
  }
  initialParams(): Params {
    return this.theta0;
  }

  private check(batch: number): void {
    if (this.skipCheck || batch <= this.checkedBatch) return;
    assertFitsBackend(this.spec, batch, 'pair');
    this.checkedBatch = batch;
  }

  /**
   * Backprop `cot` through `trace` (taken at `at`) and add -lr * gradient to `target` in place;
   * with `rebase`, also replaces rebase.into[l] by rebase.base[l] + target[l] (the net's
   * theta0 + netDelta), in the same fused op where the backend has it. Layer l of `at` is replaced
   * only after it was read.
   */
  protected descend(at: Params, trace: Trace, cot: tf.Tensor2D, target: Params, rebase?: { base: Params; into: Params }): void {
    backpropFromTrace(this.spec, at, trace, cot, -this.lr, (l, g) => {
      const old = target[l];
      const W = addOuter(old.W, g.a, g.delta, g.alphaW, rebase?.base[l].W);
      const b = addColSum(old.b, g.delta, g.alphaB, rebase?.base[l].b);
      target[l] = { W: tf.keep(W.sum), b: tf.keep(b.sum) };
      // Free n x n buffers now rather than at the end of the tidy (peak memory).
      old.W.dispose();
      old.b.dispose();
      if (rebase) {
        const prev = rebase.into[l];
        rebase.into[l] = { W: tf.keep(W.plus!), b: tf.keep(b.plus!) };
        prev.W.dispose();
        prev.b.dispose();
      }
    });
  }

  /** Runs one step inside a tidy and returns its loss as a number. */
  private scalarStep(fn: () => tf.Scalar): number {
    const loss = tf.tidy(fn);
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  }

  /** One SGD step of the net on (x, y); returns the loss before the step. */
  stepNet(x: tf.Tensor2D, y: tf.Tensor2D): number {
    return this.scalarStep(() => this.netLoss(x, y));
  }

  /** One SGD step of the linearized model; returns its loss before the step. */
  stepLin(x: tf.Tensor2D, y: tf.Tensor2D): number {
    return this.scalarStep(() => this.linLoss(x, y));
  }

  step(x: tf.Tensor2D, y: tf.Tensor2D): StepResult {
    return { lossNet: this.stepNet(x, y), lossLin: this.stepLin(x, y) };
  }

  /**
   * step() with asynchronous loss reads: the only form WebGPU supports in Node (its synchronous
   * readback needs OffscreenCanvas). Same arithmetic, same order as step().
   */
  async stepAsync(x: tf.Tensor2D, y: tf.Tensor2D): Promise<StepResult> {
    return { lossNet: await this.stepNetAsync(x, y), lossLin: await this.stepLinAsync(x, y) };
  }

  async stepNetAsync(x: tf.Tensor2D, y: tf.Tensor2D): Promise<number> {
    return readScalar(tf.tidy(() => this.netLoss(x, y)));
  }

  async stepLinAsync(x: tf.Tensor2D, y: tf.Tensor2D): Promise<number> {
    return readScalar(tf.tidy(() => this.linLoss(x, y)));
  }

  /** The net's loss on (x, y) as a scalar tensor; updates the net in place (call inside a tidy). */
  private netLoss(x: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
    this.check(x.shape[0]);
    const r = this.spec;
    const trace = forwardTrace(r, this.net, x, 1);
    const { loss, cot } = mseLoss(trace.z[r.depth], y, this.lossScale);
    // W_l is read before layer l is replaced, so the net can be updated while it is backpropagated.
    this.updateNet(trace, cot);
    return loss;
  }

  /**
   * The net's SGD update: netDelta += -lr g, then net = theta0 + netDelta (one rounding, not
   * accumulated). Protected so a test fixture can restore the old absolute storage
   * (test/train/absolute-trainer.ts); nothing else overrides it.
   */
  protected updateNet(trace: Trace, cot: tf.Tensor2D): void {
    this.descend(this.net, trace, cot, this.netDelta, { base: this.theta0, into: this.net });
  }

  /** For test fixtures: the net's evaluation parameters and displacement, replaceable per layer. */
  protected netLayers(): { theta0: Params; net: Params; netDelta: Params } {
    return { theta0: this.theta0, net: this.net, netDelta: this.netDelta };
  }

  /** The linearized model's loss: one JVP along delta and one VJP, both at theta0; updates delta. */
  private linLoss(x: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
    this.check(x.shape[0]);
    const r = this.spec;
    const trace = forwardTrace(r, this.theta0, x, 1);
    // f_lin = f(theta0) + J delta; the loss kernel adds the two.
    const { loss, cot } = mseLoss(trace.z[r.depth], y, this.lossScale, tangentFromTrace(r, this.theta0, trace, this.delta));
    this.descend(this.theta0, trace, cot, this.delta);
    return loss;
  }

  predictNet(x: tf.Tensor2D): tf.Tensor2D {
    return forward(this.spec, this.net, x);
  }

  predictLin(x: tf.Tensor2D): tf.Tensor2D {
    return linearizedForward(this.spec, this.theta0, this.delta, x);
  }

  /** f0, f - f0 and f_lin - f0 on x in difference form (deviations): what every reported deviation is computed from. */
  predictDeviations(x: tf.Tensor2D): Deviations {
    return deviations(this.spec, this.theta0, this.netDelta, this.delta, x);
  }

  dispose(): void {
    disposeParams(this.theta0);
    disposeParams(this.net);
    disposeParams(this.netDelta);
    disposeParams(this.delta);
  }
}

// ---------------------------------------------------------------- memory

export type MemoryMode = 'forward' | 'net' | 'pair';

/**
 * Estimated peak bytes of live float32 tensor data for `mode` at this batch size:
 *   forward: params + the forward trace;
 *   net:     params + trace with phi' + backprop temporaries + one layer's gradient and update;
 *   pair:    theta0 + netDelta + net + delta (the PairTrainer: 4 parameter copies) + the larger of the
 *            step's temporaries (one layer's gradient and update, <= 2 P) and the rounding-floor pass's
 *            three permuted parameter copies (theta0, netDelta, delta: 3 P, stages/train/loop.ts) + the batch terms.
 * It counts tfjs tensor storage only (not host Float32Arrays used for initialization).
 */
export function estimatePeakBytes(spec: MlpSpec, batch: number, mode: MemoryMode = 'pair'): number {
  const r = resolveSpec(spec);
  const P = paramCounts(r).total;
  const maxLayer = Math.max(...r.sizes.slice(0, -1).map((fanIn, l) => fanIn * r.sizes[l + 1] + r.sizes[l + 1]));
  const acts = r.sizes.slice(1).reduce((s, n) => s + n, 0);
  const B = batch;
  let floats: number;
  // Batch-proportional terms: unfused elementwise ops (activation and its derivative,
  // tangents, deltas, transposes) all live until the step's tidy ends: measured ~16
  // [batch, n] buffers per hidden unit for a pair step (test/model/mlp.test.ts); 20 for margin.
  if (mode === 'forward') {
    floats = P + B * (r.dIn + 8 * acts);
  } else {
    floats = (mode === 'net' ? P + 2 * maxLayer : 7 * P) + B * (2 * r.dIn + 20 * acts);
  }
  return 4 * floats;
}

/**
 * Bytes the active backend can hold in tensors, as its backend object says (backends/): wasm's
 * 4 GiB 32-bit heap, a GPU's memory (CUDA, or WebGPU on an NVIDIA adapter: from nvidia-smi),
 * system memory for CPU backends and software adapters.
 */
export function backendMemoryLimitBytes(backend: string = tf.getBackend()): { bytes: number; why: string } {
  return memoryLimitOf(backend);
}

/** Throws a clear Error when estimatePeakBytes exceeds what the backend can hold. */
export function assertFitsBackend(spec: MlpSpec, batch: number, mode: MemoryMode = 'pair', backend: string = tf.getBackend()): void {
  const r = resolveSpec(spec);
  const need = estimatePeakBytes(r, batch, mode);
  const lim = backendMemoryLimitBytes(backend);
  const gib = (b: number): string => (b / 1024 ** 3).toFixed(2) + ' GiB';
  if (need > lim.bytes) {
    throw new Error(`model ${r.dIn}-${r.width}x${r.depth}-${r.dOut} (${mode}, batch ${batch}) needs about ${gib(need)} of tensor memory, ` +
      `more than backend '${backend}' can hold: ${lim.why}`);
  }
  assertTensorsFit(r, batch, backend);
  // Backends that keep tensors in JS typed arrays cannot hold a single array past this size.
  const maxLayer = Math.max(...r.sizes.slice(0, -1).map((fanIn, l) => fanIn * r.sizes[l + 1]));
  const maxArray = maxArrayBytesOf(backend);
  if (maxArray !== undefined && maxLayer * 4 > maxArray) {
    throw new Error(`a ${maxLayer}-element weight matrix exceeds the largest typed array Node can allocate (${maxArray} bytes)`);
  }
}

/** The largest tensors of a training step, by name: each weight matrix and the widest activation. */
export function largestTensors(spec: MlpSpec, batch: number): { name: string; shape: number[]; bytes: number }[] {
  const r = resolveSpec(spec);
  const out = r.sizes.slice(0, -1).map((fanIn, l) => ({ name: `W_${l}`, shape: [fanIn, r.sizes[l + 1]], bytes: 4 * fanIn * r.sizes[l + 1] }));
  const widest = Math.max(...r.sizes);
  out.push({ name: 'activations', shape: [batch, widest], bytes: 4 * batch * widest });
  return out.sort((a, b) => b.bytes - a.bytes);
}

/**
 * A device may limit a single tensor (WebGPU binds each tensor as one storage buffer: a tensor
 * past the device's maxStorageBufferBindingSize cannot be used). Fails before training, naming the tensor.
 */
export function assertTensorsFit(spec: MlpSpec, batch: number, backend: string = tf.getBackend()): void {
  const dev = deviceLimitsOf(backend);
  if (!dev?.maxTensorBytes) return;
  const big = largestTensors(spec, batch)[0];
  if (big.bytes > dev.maxTensorBytes) {
    const size = (b: number): string => (b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(2)} GiB` : `${(b / 1024 ** 2).toFixed(1)} MiB`);
    throw new Error(`tensor ${big.name} (${big.shape.join(' x ')} float32, ${size(big.bytes)}) exceeds ${dev.maxTensorWhy ?? 'the device limit'} ` +
      `(${size(dev.maxTensorBytes)}) on ${dev.device}: use a narrower net, or a GPU whose Vulkan driver allows larger bindings (NVIDIA: up to 4 GiB)`);
  }
}
