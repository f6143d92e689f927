// Derivative correlations at theta0 (Definition 3.1, Eq. 13), exact, by Taylor mode.
//
// For a sample x, an output i and g = grad_theta f_i(x; theta0), the series of
// f_i(x; theta0 + t g) = sum_k f^(k) t^k gives
//   C^{0,d} = (eta^d / d!) d^d/dt^d f_i |_0 = eta^d f^(d),  d = 1, 2, 3  (f^(1) = ||g||^2).
// Truncated series (orders 0..3) are pushed through the layers: z(t) = c a(t) W(t) + s b(t),
// a(t) = phi(z(t)) by Faa di Bruno with phi', phi'', phi'''. The direction is rank one per
// layer: dW_l = c_l a_l^T delta_l (delta_l = df_i/dz_l, a_l at theta0), db_l = s_l delta_l, so
//   a^(k-1)(t-coefficient) @ dW_l = c_l (a^(k-1) . a_l) delta_l,
// which needs only inner products: no per-example n x n matrix is ever formed. Rows of the
// batched computation are (sample, output) pairs; W(t) is linear in t.
//
// Sampled estimator (the paper's Eq. 25 construction, with exact derivatives): a seeded set D
// of parameter indices, `perLayer` per layer, and
//   S2 = sum_{a,b in D} g_a g_b d_a d_b f_i,   S3 = sum_{a,b,c in D} g_a g_b g_c d_a d_b d_c f_i.
// These are directional derivatives along g masked to D (S2 = 2 f_D^(2), S3 = 6 f_D^(3)), so
// the same machinery runs with a sparse direction: gathers on D's (row, column) indices and a
// one-hot scatter of size |D_l| x n.
import { activeDeviceLimits, tf } from './backend.ts';
import { assertTensorsFit, backendMemoryLimitBytes, forwardTrace, resolveSpec, paramCounts, type MlpSpec, type Params, type ResolvedSpec } from './mlp.ts';
import { Rng, hashKey } from './prng.ts';
import { rmsOf } from './rms.ts';

// ---------------------------------------------------------------- parameter index sets

export interface LayerIndexSet {
  /** selected weights W_l[p[j], q[j]] */
  p: Int32Array;
  q: Int32Array;
  /** selected biases b_l[bq[j]] */
  bq: Int32Array;
}

export interface ParameterSet {
  layers: LayerIndexSet[];
  /** sorted flat indices in the library's parameter order (W_0 row-major, b_0, W_1, ...) */
  indices: number[];
  size: number;
}

/**
 * Seeded random parameter subset: per layer l, min(perLayer, N_l) distinct indices drawn
 * uniformly from that layer's N_l = fanIn*fanOut + fanOut parameters (W row-major, then b),
 * with the stream hashKey([seed, l, 2]). D is the union over layers.
 */
export function sampleParameterSet(spec: MlpSpec, perLayer: number, seed: number): ParameterSet {
  const r = resolveSpec(spec);
  if (!Number.isInteger(perLayer) || perLayer < 1) throw new Error(`perLayer must be a positive integer, got ${perLayer}`);
  const layers: LayerIndexSet[] = [];
  const indices: number[] = [];
  let offset = 0;
  for (let l = 0; l <= r.depth; l++) {
    const fanIn = r.sizes[l];
    const fanOut = r.sizes[l + 1];
    const N = fanIn * fanOut + fanOut;
    const m = Math.min(perLayer, N);
    const rng = new Rng(hashKey([seed, l, 2]));
    let chosen: number[];
    if (m === N) {
      chosen = Array.from({ length: N }, (_, k) => k);
    } else if (2 * m > N) {
      // partial Fisher-Yates
      const all = Array.from({ length: N }, (_, k) => k);
      for (let k = 0; k < m; k++) {
        const j = k + rng.int(N - k);
        [all[k], all[j]] = [all[j], all[k]];
      }
      chosen = all.slice(0, m);
    } else {
      const set = new Set<number>();
      while (set.size < m) set.add(rng.int(N));
      chosen = [...set];
    }
    chosen.sort((a, b) => a - b);
    const w = chosen.filter((k) => k < fanIn * fanOut);
    const bs = chosen.filter((k) => k >= fanIn * fanOut);
    layers.push({
      p: Int32Array.from(w, (k) => Math.floor(k / fanOut)),
      q: Int32Array.from(w, (k) => k % fanOut),
      bq: Int32Array.from(bs, (k) => k - fanIn * fanOut),
    });
    for (const k of chosen) indices.push(offset + k);
    offset += N;
  }
  return { layers, indices, size: indices.length };
}

// ---------------------------------------------------------------- Taylor mode

/** A direction along g: the full gradient, or g restricted to a parameter set. */
type Direction = { kind: 'full' } | { kind: 'masked'; set: ParameterSet };

interface SeriesOut {
  /** [rows] with rows = (sample, output) pairs, f^(k) of f_i along the direction, k = 1..3 */
  f1: tf.Tensor1D;
  f2: tf.Tensor1D;
  f3: tf.Tensor1D;
}

/** Taylor coefficients f^(1..3) for one chunk of samples. No tidy (caller tidies). */
function taylorChunk(r: ResolvedSpec, params: Params, x: tf.Tensor2D, outputs: number[], dirs: Direction[]): SeriesOut[] {
  const L = r.depth;
  const cb = x.shape[0];
  const K = outputs.length;
  const R = cb * K;
  // Forward at theta0 with phi^(1..3); ph[l][k - 1] = phi^(k)(z_l) as [cb, 1, n_{l+1}].
  const trace = forwardTrace(r, params, x, 3);
  const a0 = trace.a;
  const ph = trace.dphi.map((d, l) => d.map((t) => t.reshape([cb, 1, r.sizes[l + 1]])));
  // delta_l = df_i/dz_l for every (sample, output) row, as [cb, K, n_{l+1}].
  const E = tf.oneHot(tf.tensor1d(outputs, 'int32'), r.dOut).toFloat().reshape([1, K, r.dOut]);
  const delta: tf.Tensor3D[] = new Array(L + 1);
  delta[L] = tf.tile(E, [cb, 1, 1]) as tf.Tensor3D;
  for (let l = L; l >= 1; l--) {
    // delta W^T computed as (W delta^T)^T: only [rows, n] matrices are transposed (wasm speed).
    const back = tf.transpose(tf.matMul(params[l].W, tf.transpose(delta[l].reshape([R, r.sizes[l + 1]])))) as tf.Tensor2D;
    delta[l - 1] = back.reshape([cb, K, r.sizes[l]]).mul(ph[l - 1][0]).mul(r.wScale[l]) as tf.Tensor3D;
  }
  return dirs.map((dir) => propagate(r, params, a0, ph, delta, E, dir, cb, K));
}

function propagate(
  r: ResolvedSpec, params: Params, a0: tf.Tensor2D[], ph: tf.Tensor[][], delta: tf.Tensor3D[], E: tf.Tensor,
  dir: Direction, cb: number, K: number,
): SeriesOut {
  const L = r.depth;
  const R = cb * K;
  // A[k] = a^(k) as [cb, K, n] (k = 1..3); null = 0 (the input does not depend on theta).
  let A: (tf.Tensor3D | null)[] = [null, null, null, null];
  let Z: tf.Tensor3D[] = [];
  for (let l = 0; l <= L; l++) {
    const n = r.sizes[l];
    const nOut = r.sizes[l + 1];
    const c = r.wScale[l];
    const s = r.bScale[l];
    const a03 = a0[l].reshape([cb, 1, n]);
    // D[k] = contribution of the direction at order k: c * a^(k-1) @ V_l (+ s * Vb at k = 1).
    const D: (tf.Tensor3D | null)[] = [null, null, null, null];
    if (dir.kind === 'full') {
      const sq0 = tf.sum(tf.square(a03), -1, true); // [cb, 1, 1]
      D[1] = delta[l].mul(sq0.mul(c * c).add(s * s)) as tf.Tensor3D;
      for (let k = 2; k <= 3; k++) {
        const Ak = A[k - 1];
        if (Ak) D[k] = delta[l].mul(tf.sum(Ak.mul(a03), -1, true).mul(c * c)) as tf.Tensor3D;
      }
    } else {
      const set = dir.set.layers[l];
      const m = set.p.length;
      let Eq: tf.Tensor2D | null = null;
      let dq: tf.Tensor | null = null;
      if (m > 0) {
        // One-hot [m, nOut] scatter matrix with c^2 folded in.
        Eq = tf.oneHot(tf.tensor1d(set.q, 'int32'), nOut).toFloat().mul(c * c) as tf.Tensor2D;
        dq = tf.gather(delta[l], tf.tensor1d(set.q, 'int32'), 2); // [cb, K, m]
      }
      const pIdx = m > 0 ? tf.tensor1d(set.p, 'int32') : null;
      for (let k = 1; k <= 3; k++) {
        const prev = k === 1 ? a03 : A[k - 1];
        let term: tf.Tensor3D | null = null;
        if (prev && Eq && dq && pIdx) {
          const u = tf.gather(prev.mul(a03), pIdx, 2); // [cb, K|1, m]
          term = tf.matMul(u.mul(dq).reshape([R, m]), Eq).reshape([cb, K, nOut]) as tf.Tensor3D;
        }
        if (k === 1 && set.bq.length > 0) {
          const bmask = tf.tensor1d(maskVector(set.bq, nOut)).mul(s * s);
          const bt = delta[l].mul(bmask) as tf.Tensor3D;
          term = term ? (term.add(bt) as tf.Tensor3D) : bt;
        }
        D[k] = term;
      }
    }
    // z^(k) = c a^(k) @ W + D[k]
    const Zl: tf.Tensor3D[] = [];
    for (let k = 1; k <= 3; k++) {
      const Ak = A[k];
      let zk: tf.Tensor3D | null = null;
      if (Ak) zk = tf.matMul(Ak.reshape([R, n]).mul(c), params[l].W).reshape([cb, K, nOut]) as tf.Tensor3D;
      const Dk = D[k];
      if (Dk) zk = zk ? (zk.add(Dk) as tf.Tensor3D) : Dk;
      Zl.push(zk ?? (tf.zeros([cb, K, nOut]) as tf.Tensor3D));
    }
    if (l < L) {
      // Faa di Bruno, normalized coefficients:
      // a1 = p1 z1; a2 = p1 z2 + p2 z1^2 / 2; a3 = p1 z3 + p2 z1 z2 + p3 z1^3 / 6.
      const [p1, p2, p3] = ph[l];
      const [z1, z2, z3] = Zl;
      const a1 = p1.mul(z1) as tf.Tensor3D;
      const a2 = p1.mul(z2).add(p2.mul(tf.square(z1)).mul(0.5)) as tf.Tensor3D;
      const a3 = p1.mul(z3).add(p2.mul(z1.mul(z2))).add(p3.mul(tf.pow(z1, 3)).mul(1 / 6)) as tf.Tensor3D;
      A = [null, a1, a2, a3];
    } else {
      Z = Zl;
    }
  }
  // Row (b, k) reads output outputs[k]: contract with the one-hot E.
  const pick = (t: tf.Tensor3D): tf.Tensor1D => tf.sum(t.mul(E), -1).reshape([R]) as tf.Tensor1D;
  return { f1: pick(Z[0]), f2: pick(Z[1]), f3: pick(Z[2]) };
}

function maskVector(idx: Int32Array, n: number): Float32Array {
  const v = new Float32Array(n);
  for (const i of idx) v[i] += 1;
  return v;
}

// ---------------------------------------------------------------- public API

export interface CorrelationOptions {
  /** learning rate eta in C^{0,d} = eta^d f^(d) */
  eta: number;
  /** outputs i to evaluate (default all 0..dOut-1) */
  outputs?: number[];
  /** samples per chunk (default: sized to keep chunk temporaries near 256 MiB) */
  chunk?: number;
  /** also compute the sampled estimator on a seeded parameter set */
  sampled?: { perLayer: number; seed: number };
}

export interface Rms {
  c01: number;
  c02: number;
  c03: number;
}

export interface SampledResult {
  set: ParameterSet;
  /** per row: sum_{a,b in D} g_a g_b d_ab f_i */
  sum2: Float64Array;
  /** per row: sum_{a,b,c in D} g_a g_b g_c d_abc f_i */
  sum3: Float64Array;
  /** per row: sum_{a in D} g_a^2 */
  sum1: Float64Array;
  /** the paper's normalization: sum2 / |D|^2, sum3 / |D|^3 (no eta); and sum1 / |D| */
  c01: Float64Array;
  c02: Float64Array;
  c03: Float64Array;
  rms: Rms;
}

export interface CorrelationResult {
  batch: number;
  outputs: number[];
  eta: number;
  /** row-major [batch, outputs.length]: C^{0,1} = eta ||g||^2 */
  c01: Float64Array;
  /** C^{0,2} = (eta^2/2) d^2/dt^2 f_i(theta0 + t g) */
  c02: Float64Array;
  /** C^{0,3} = (eta^3/6) d^3/dt^3 f_i(theta0 + t g) */
  c03: Float64Array;
  /** sqrt(mean over samples and outputs of C^2) (Eq. 25 style aggregate) */
  rms: Rms;
  sampled?: SampledResult;
}

/** Bytes of the chunk temporaries per (sample, output) row: ~40 [row, n] float32 buffers. */
export function taylorBytesPerRow(spec: MlpSpec): number {
  const r = resolveSpec(spec);
  return 4 * 40 * r.sizes.slice(1).reduce((s, n) => s + n, 0);
}

/**
 * Exact C^{0,1}, C^{0,2}, C^{0,3} at theta0 = params for every sample of x ([batch, dIn]) and
 * output, plus optionally the sampled estimator. float32 on the tfjs backend.
 */
export function derivativeCorrelations(spec: MlpSpec, params: Params, x: tf.Tensor2D, opts: CorrelationOptions): CorrelationResult {
  const core = correlationsCore(spec, params, x, opts);
  for (let step = core.next(); ; step = core.next((step.value as tf.Tensor).dataSync())) if (step.done) return step.value;
}

/** derivativeCorrelations with asynchronous reads (WebGPU in Node has no synchronous readback). */
export async function derivativeCorrelationsAsync(spec: MlpSpec, params: Params, x: tf.Tensor2D, opts: CorrelationOptions): Promise<CorrelationResult> {
  const core = correlationsCore(spec, params, x, opts);
  for (let step = core.next(); ; step = core.next(await (step.value as tf.Tensor).data())) if (step.done) return step.value;
}

type Read = Awaited<ReturnType<tf.Tensor['data']>>;

/** The computation, written once: yields each result tensor and receives its values. */
function* correlationsCore(spec: MlpSpec, params: Params, x: tf.Tensor2D, opts: CorrelationOptions): Generator<tf.Tensor, CorrelationResult, Read> {
  const r = resolveSpec(spec);
  const outputs = opts.outputs ?? Array.from({ length: r.dOut }, (_, i) => i);
  for (const i of outputs) if (!Number.isInteger(i) || i < 0 || i >= r.dOut) throw new Error(`output index ${i} out of range 0..${r.dOut - 1}`);
  const B = x.shape[0];
  const K = outputs.length;
  let chunk = Math.max(1, Math.min(B, opts.chunk ?? Math.floor((256 * 1024 ** 2) / (K * taylorBytesPerRow(r)))));
  // A device that limits single tensors (WebGPU: one storage-buffer binding each): every
  // [chunk * outputs, width] temporary must fit.
  const dev = activeDeviceLimits();
  if (dev?.maxTensorBytes) {
    assertTensorsFit(r, 1);
    chunk = Math.max(1, Math.min(chunk, Math.floor(dev.maxTensorBytes / (4 * K * Math.max(...r.sizes)))));
  }
  const eta = opts.eta;
  const need = 4 * paramCounts(r).total + chunk * K * taylorBytesPerRow(r);
  const lim = backendMemoryLimitBytes();
  if (need > lim.bytes) {
    throw new Error(`derivative correlations for ${r.dIn}-${r.width}x${r.depth}-${r.dOut} need about ${(need / 1024 ** 3).toFixed(2)} GiB ` +
      `of tensor memory (parameters + a chunk of ${chunk} samples), more than backend '${tf.getBackend()}' can hold: ${lim.why}`);
  }

  const dirs: Direction[] = [{ kind: 'full' }];
  let set: ParameterSet | undefined;
  if (opts.sampled) {
    set = sampleParameterSet(r, opts.sampled.perLayer, opts.sampled.seed);
    dirs.push({ kind: 'masked', set });
  }
  const f = dirs.map(() => [new Float64Array(B * K), new Float64Array(B * K), new Float64Array(B * K)]);
  for (let b0 = 0; b0 < B; b0 += chunk) {
    const cb = Math.min(chunk, B - b0);
    const res = tf.tidy(() => {
      const xc = x.slice([b0, 0], [cb, r.dIn]);
      return taylorChunk(r, params, xc, outputs, dirs).map((o) => [o.f1, o.f2, o.f3]);
    });
    for (let d = 0; d < res.length; d++) for (let k = 0; k < res[d].length; k++) {
      f[d][k].set((yield res[d][k]) as Float32Array, b0 * K);
      res[d][k].dispose();
    }
  }
  const scale = (v: Float64Array, s: number): Float64Array => v.map((x) => x * s);
  const [f1, f2, f3] = f[0];
  const c01 = scale(f1, eta);
  const c02 = scale(f2, eta * eta);
  const c03 = scale(f3, eta ** 3);
  const out: CorrelationResult = { batch: B, outputs, eta, c01, c02, c03, rms: { c01: rmsOf(c01), c02: rmsOf(c02), c03: rmsOf(c03) } };
  if (set) {
    const [s1, g2, g3] = f[1];
    const D = set.size;
    const sum2 = scale(g2, 2);
    const sum3 = scale(g3, 6);
    const m1 = scale(s1, 1 / D);
    const m2 = scale(sum2, 1 / D ** 2);
    const m3 = scale(sum3, 1 / D ** 3);
    out.sampled = { set, sum1: s1, sum2, sum3, c01: m1, c02: m2, c03: m3, rms: { c01: rmsOf(m1), c02: rmsOf(m2), c03: rmsOf(m3) } };
  }
  return out;
}
