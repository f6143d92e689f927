// float64 Taylor-mode reference with an explicit (dense) direction v: W(t) = W + t V is formed
// as a full matrix, unlike the library's rank-one trick. Returns the normalized Taylor
// coefficients f^(k), k = 0..3, of f(x; theta + t v).
import type { Ref64 } from './ref64.ts';

export function jets64(ref: Ref64, theta: Float64Array, x: ArrayLike<number>, v: Float64Array): Float64Array[] {
  // a[k][i]: order-k coefficient of unit i.
  let a: Float64Array[] = [Float64Array.from(x), ...[1, 2, 3].map(() => new Float64Array(x.length))];
  let z: Float64Array[] = [];
  for (let l = 0; l <= ref.depth; l++) {
    const nIn = ref.sizes[l];
    const nOut = ref.sizes[l + 1];
    z = [0, 1, 2, 3].map(() => new Float64Array(nOut));
    for (let k = 0; k <= 3; k++) {
      for (let j = 0; j < nOut; j++) {
        let acc = 0;
        for (let i = 0; i < nIn; i++) {
          const w = ref.offW[l] + i * nOut + j;
          acc += a[k][i] * theta[w];
          if (k >= 1) acc += a[k - 1][i] * v[w];
        }
        let bias = 0;
        if (k === 0) bias = theta[ref.offB[l] + j];
        if (k === 1) bias = v[ref.offB[l] + j];
        z[k][j] = ref.c[l] * acc + ref.s[l] * bias;
      }
    }
    if (l < ref.depth) {
      const next = [0, 1, 2, 3].map(() => new Float64Array(nOut));
      for (let j = 0; j < nOut; j++) {
        const [p0, p1, p2, p3] = ref.act(z[0][j]);
        const [z1, z2, z3] = [z[1][j], z[2][j], z[3][j]];
        next[0][j] = p0;
        next[1][j] = p1 * z1;
        next[2][j] = p1 * z2 + 0.5 * p2 * z1 * z1;
        next[3][j] = p1 * z3 + p2 * z1 * z2 + (p3 * z1 * z1 * z1) / 6;
      }
      a = next;
    }
  }
  return z;
}
