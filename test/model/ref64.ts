// Independent float64 reference MLP for the tests: plain loops over Float64Array, one sample at
// a time, parameters as one flat vector in the library's documented order
// (W_0 row-major [fanIn, fanOut], b_0, W_1, b_1, ...). Only the scalar activation functions
// (derivs64) and the init are shared with the library.
import { getActivation, type Derivs64 } from '../../stages/model/activations.ts';
import { resolveSpec, type HostLayer, type MlpSpec } from '../../stages/model/mlp.ts';

export interface Ref64 {
  sizes: number[];
  c: number[];
  s: number[];
  depth: number;
  act: (x: number) => Derivs64;
  /** offsets of W_l and b_l in the flat vector */
  offW: number[];
  offB: number[];
  P: number;
}

export function makeRef(spec: MlpSpec): Ref64 {
  const r = resolveSpec(spec);
  const offW: number[] = [];
  const offB: number[] = [];
  let o = 0;
  for (let l = 0; l <= r.depth; l++) {
    offW.push(o);
    o += r.sizes[l] * r.sizes[l + 1];
    offB.push(o);
    o += r.sizes[l + 1];
  }
  return { sizes: r.sizes, c: r.wScale, s: r.bScale, depth: r.depth, act: getActivation(r.activation).derivs64, offW, offB, P: o };
}

export function flatFromHost(host: readonly HostLayer[]): Float64Array {
  const P = host.reduce((s, h) => s + h.W.length + h.b.length, 0);
  const out = new Float64Array(P);
  let o = 0;
  for (const h of host) {
    out.set(h.W, o);
    o += h.W.length;
    out.set(h.b, o);
    o += h.b.length;
  }
  return out;
}

export function hostFromFlat(ref: Ref64, theta: Float64Array): HostLayer[] {
  const out: HostLayer[] = [];
  for (let l = 0; l <= ref.depth; l++) {
    const fanIn = ref.sizes[l];
    const fanOut = ref.sizes[l + 1];
    out.push({
      fanIn,
      fanOut,
      W: Float32Array.from(theta.subarray(ref.offW[l], ref.offW[l] + fanIn * fanOut)),
      b: Float32Array.from(theta.subarray(ref.offB[l], ref.offB[l] + fanOut)),
    });
  }
  return out;
}

export interface Trace64 {
  z: Float64Array[];
  a: Float64Array[];
}

export function forward64(ref: Ref64, theta: Float64Array, x: ArrayLike<number>): Trace64 {
  const a: Float64Array[] = [Float64Array.from(x)];
  const z: Float64Array[] = [];
  for (let l = 0; l <= ref.depth; l++) {
    const nIn = ref.sizes[l];
    const nOut = ref.sizes[l + 1];
    const zl = new Float64Array(nOut);
    for (let j = 0; j < nOut; j++) {
      let acc = 0;
      for (let i = 0; i < nIn; i++) acc += a[l][i] * theta[ref.offW[l] + i * nOut + j];
      zl[j] = ref.c[l] * acc + ref.s[l] * theta[ref.offB[l] + j];
    }
    z.push(zl);
    if (l < ref.depth) a.push(zl.map((v) => ref.act(v)[0]));
  }
  return { z, a };
}

export function out64(ref: Ref64, theta: Float64Array, x: ArrayLike<number>): Float64Array {
  const t = forward64(ref, theta, x);
  return t.z[ref.depth];
}

/** Forward-mode tangent propagation: J(x) v. */
export function jvp64(ref: Ref64, theta: Float64Array, x: ArrayLike<number>, v: Float64Array): Float64Array {
  const t = forward64(ref, theta, x);
  let da = new Float64Array(ref.sizes[0]);
  let dz = new Float64Array(0);
  for (let l = 0; l <= ref.depth; l++) {
    const nIn = ref.sizes[l];
    const nOut = ref.sizes[l + 1];
    dz = new Float64Array(nOut);
    for (let j = 0; j < nOut; j++) {
      let acc = 0;
      for (let i = 0; i < nIn; i++) {
        acc += da[i] * theta[ref.offW[l] + i * nOut + j] + t.a[l][i] * v[ref.offW[l] + i * nOut + j];
      }
      dz[j] = ref.c[l] * acc + ref.s[l] * v[ref.offB[l] + j];
    }
    if (l < ref.depth) da = dz.map((d, j) => ref.act(t.z[l][j])[1] * d);
  }
  return dz;
}

/** Reverse mode: J(x)^T cot as a flat parameter vector. */
export function vjp64(ref: Ref64, theta: Float64Array, x: ArrayLike<number>, cot: ArrayLike<number>): Float64Array {
  const t = forward64(ref, theta, x);
  const g = new Float64Array(ref.P);
  let delta = Float64Array.from(cot);
  for (let l = ref.depth; l >= 0; l--) {
    const nIn = ref.sizes[l];
    const nOut = ref.sizes[l + 1];
    for (let i = 0; i < nIn; i++) {
      for (let j = 0; j < nOut; j++) g[ref.offW[l] + i * nOut + j] = ref.c[l] * t.a[l][i] * delta[j];
    }
    for (let j = 0; j < nOut; j++) g[ref.offB[l] + j] = ref.s[l] * delta[j];
    if (l > 0) {
      const prev = new Float64Array(nIn);
      for (let i = 0; i < nIn; i++) {
        let acc = 0;
        for (let j = 0; j < nOut; j++) acc += theta[ref.offW[l] + i * nOut + j] * delta[j];
        prev[i] = ref.c[l] * acc * ref.act(t.z[l - 1][i])[1];
      }
      delta = prev;
    }
  }
  return g;
}

/** Gradient of output i: row i of the Jacobian. */
export function grad64(ref: Ref64, theta: Float64Array, x: ArrayLike<number>, i: number): Float64Array {
  const cot = new Float64Array(ref.sizes[ref.depth + 1]);
  cot[i] = 1;
  return vjp64(ref, theta, x, cot);
}

function shifted(theta: Float64Array, moves: [number, number][]): Float64Array {
  const t = Float64Array.from(theta);
  for (const [k, h] of moves) t[k] += h;
  return t;
}

/** Full Hessian of f_i by central differences of the analytic gradient (row-major P x P). */
export function hessianFd(ref: Ref64, theta: Float64Array, x: ArrayLike<number>, i: number, h = 1e-5): Float64Array {
  const P = ref.P;
  const H = new Float64Array(P * P);
  for (let b = 0; b < P; b++) {
    const gp = grad64(ref, shifted(theta, [[b, h]]), x, i);
    const gm = grad64(ref, shifted(theta, [[b, -h]]), x, i);
    for (let a = 0; a < P; a++) H[a * P + b] = (gp[a] - gm[a]) / (2 * h);
  }
  // Symmetrize: halves the FD error of the mixed terms.
  for (let a = 0; a < P; a++) for (let b = a + 1; b < P; b++) {
    const m = 0.5 * (H[a * P + b] + H[b * P + a]);
    H[a * P + b] = m;
    H[b * P + a] = m;
  }
  return H;
}

/**
 * Full third-derivative tensor of f_i (P^3, index (a*P + b)*P + c) by second central
 * differences of the analytic gradient: T_abc = [g_a(+b+c) - g_a(+b-c) - g_a(-b+c) + g_a(-b-c)] / 4h^2.
 */
export function thirdFd(ref: Ref64, theta: Float64Array, x: ArrayLike<number>, i: number, h = 1e-4): Float64Array {
  const P = ref.P;
  const T = new Float64Array(P * P * P);
  for (let b = 0; b < P; b++) {
    for (let c = b; c < P; c++) {
      const gpp = grad64(ref, shifted(theta, [[b, h], [c, h]]), x, i);
      const gpm = grad64(ref, shifted(theta, [[b, h], [c, -h]]), x, i);
      const gmp = grad64(ref, shifted(theta, [[b, -h], [c, h]]), x, i);
      const gmm = grad64(ref, shifted(theta, [[b, -h], [c, -h]]), x, i);
      for (let a = 0; a < P; a++) {
        const v = (gpp[a] - gpm[a] - gmp[a] + gmm[a]) / (4 * h * h);
        T[(a * P + b) * P + c] = v;
        T[(a * P + c) * P + b] = v;
      }
    }
  }
  // Symmetrize over all index permutations.
  for (let a = 0; a < P; a++) for (let b = a; b < P; b++) for (let c = b; c < P; c++) {
    const idx = [[a, b, c], [a, c, b], [b, a, c], [b, c, a], [c, a, b], [c, b, a]].map(([p, q, r]) => (p * P + q) * P + r);
    const m = idx.reduce((s, k) => s + T[k], 0) / 6;
    for (const k of idx) T[k] = m;
  }
  return T;
}

/** sum_{a,b in S} H_ab g_a g_b, and the sum of absolute terms (a scale for tolerances). */
export function contract2(H: Float64Array, g: Float64Array, mask?: Uint8Array): { value: number; scale: number } {
  const P = g.length;
  let v = 0;
  let s = 0;
  for (let a = 0; a < P; a++) {
    if (mask && !mask[a]) continue;
    for (let b = 0; b < P; b++) {
      if (mask && !mask[b]) continue;
      const t = H[a * P + b] * g[a] * g[b];
      v += t;
      s += Math.abs(t);
    }
  }
  return { value: v, scale: s };
}

export function contract3(T: Float64Array, g: Float64Array, mask?: Uint8Array): { value: number; scale: number } {
  const P = g.length;
  let v = 0;
  let s = 0;
  for (let a = 0; a < P; a++) {
    if (mask && !mask[a]) continue;
    for (let b = 0; b < P; b++) {
      if (mask && !mask[b]) continue;
      for (let c = 0; c < P; c++) {
        if (mask && !mask[c]) continue;
        const t = T[(a * P + b) * P + c] * g[a] * g[b] * g[c];
        v += t;
        s += Math.abs(t);
      }
    }
  }
  return { value: v, scale: s };
}

/** Deterministic pseudo-random float64 values in [-1, 1) for test inputs and directions. */
export function testValues(n: number, seed: number): Float64Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[k] = s / 2147483648 - 1;
  }
  return out;
}

/** max_k |got_k - want_k| <= rtol * max_k |want_k| (a norm-wise check; entries may be ~0). */
export function assertCloseNorm(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, msg = ''): void {
  if (got.length !== want.length) throw new Error(`${msg}: length ${got.length} vs ${want.length}`);
  let err = 0;
  let scale = 0;
  for (let k = 0; k < want.length; k++) {
    err = Math.max(err, Math.abs(got[k] - want[k]));
    scale = Math.max(scale, Math.abs(want[k]));
  }
  if (!(err <= rtol * scale)) {
    throw new Error(`${msg}: max abs error ${err.toExponential(3)} > ${rtol} * max |want| ${scale.toExponential(3)} (rel ${(err / scale).toExponential(3)})`);
  }
}
