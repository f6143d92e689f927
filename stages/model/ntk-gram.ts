// The empirical NTK K(xA, xB) = J(xA; theta) J(xB; theta)^T from per-layer Gram products, never
// forming the Jacobian (issue 20). With z_l = c_l a_l W_l + s_l b_l (mlp.ts), the gradient of
// output i at x with respect to W_l[p, q] is c_l a_l(x)[p] delta_l^i(x)[q] and with respect to
// b_l[q] it is s_l delta_l^i(x)[q], where delta_l^i = df_i/dz_l is the backprop vector of output i.
// So layer l adds
//   K_l(x, x')_{ij} = (c_l^2 a_l(x).a_l(x') + s_l^2) * delta_l^i(x).delta_l^j(x'),
// and the backprop vectors of all outputs are propagated together as the rows of one matrix:
// delta_L^i = e_i (linear output layer), delta_{l-1} = c_l (delta_l W_l^T) * phi'(z_{l-1}).
// Cost per layer: the two Grams (nA x nB x fanIn and nA dOut x nB dOut x fanOut) and one
// nA dOut x fanOut x fanIn backprop per side, against nA dOut P for the Jacobian.
import { tf } from './backend.ts';
import { forwardTrace, type Params, type Trace } from './mlp.ts';
import { resolveSpec, type MlpSpec, type ResolvedSpec } from './spec.ts';

/**
 * The backprop vectors of every output at layer `depth`: rows ordered (sample, output), row
 * s * dOut + i = e_i. (No tidy.) kernel-share.ts propagates the same rows.
 */
export function outputRows(n: number, dOut: number): tf.Tensor2D {
  return tf.tile(tf.eye(dOut), [n, 1]) as tf.Tensor2D;
}

/** delta_{l-1} from delta_l [n dOut, fanOut]: c_l (delta_l W_l^T) * phi'(z_{l-1}), phi' repeated per output. (No tidy.) */
export function backOne(r: ResolvedSpec, theta: Params, trace: Trace, l: number, delta: tf.Tensor2D): tf.Tensor2D {
  const n = trace.a[0].shape[0];
  const fanIn = r.sizes[l];
  const back = tf.matMul(delta, theta[l].W, false, true).mul(r.wScale[l]);
  const dphi = trace.dphi[l - 1][0].reshape([n, 1, fanIn]);
  return back.reshape([n, r.dOut, fanIn]).mul(dphi).reshape([n * r.dOut, fanIn]) as tf.Tensor2D;
}

/**
 * K from two forward traces at the same theta taken with order >= 1 (phi' kept): [nA dOut, nB dOut],
 * row a * dOut + i, column b * dOut + j holds sum_theta df_i(xA_a)/dtheta df_j(xB_b)/dtheta. `tB`
 * may be `tA` (a symmetric K: its backprop vectors are then computed once). Returns a new tensor.
 */
export function ntkGramFromTraces(spec: MlpSpec | ResolvedSpec, theta: Params, tA: Trace, tB: Trace): tf.Tensor2D {
  const r = resolveSpec(spec);
  const nA = tA.a[0].shape[0];
  const nB = tB.a[0].shape[0];
  const same = tA === tB;
  let dA = tf.tidy(() => outputRows(nA, r.dOut));
  let dB = same ? dA : tf.tidy(() => outputRows(nB, r.dOut));
  // The output layer's term starts the sum (no zeros to add to: a large K costs its fill).
  let K: tf.Tensor2D | null = null;
  for (let l = r.depth; l >= 0; l--) {
    const c = r.wScale[l];
    const s = r.bScale[l];
    // Per layer in its own tidy: only K and the next backprop vectors outlive it (peak memory).
    const [nextK, nextA, nextB] = tf.tidy((): tf.Tensor2D[] => {
      const ga = tf.matMul(tA.a[l], tB.a[l], false, true).mul(c * c).add(s * s).reshape([nA, 1, nB, 1]);
      const gd = tf.matMul(dA, dB, false, true).reshape([nA, r.dOut, nB, r.dOut]);
      const term = gd.mul(ga).reshape([nA * r.dOut, nB * r.dOut]) as tf.Tensor2D;
      const k = K ? (K.add(term) as tf.Tensor2D) : term;
      if (l === 0) return [k];
      const a = backOne(r, theta, tA, l, dA);
      return [k, a, same ? a : backOne(r, theta, tB, l, dB)];
    });
    K?.dispose();
    dA.dispose();
    if (!same) dB.dispose();
    K = nextK!;
    if (nextA && nextB) {
      dA = nextA;
      dB = nextB;
    }
  }
  return K!;
}

/**
 * The empirical NTK of the network `spec` at parameters `theta` (any theta, e.g. theta0 or the
 * trained net's) between the rows of xA [nA, dIn] and xB [nB, dIn]: a [nA dOut, nB dOut] tensor,
 * row a * dOut + i, column b * dOut + j = J_i(xA_a) . J_j(xB_b) (the flat order of a
 * [nA, dOut] output's reshape). Pass the same tensor twice for K(x, x). Never forms J.
 */
export function ntkGram(spec: MlpSpec | ResolvedSpec, theta: Params, xA: tf.Tensor2D, xB: tf.Tensor2D): tf.Tensor2D {
  const r = resolveSpec(spec);
  for (const [name, x] of [['xA', xA], ['xB', xB]] as const) {
    if (x.rank !== 2 || x.shape[1] !== r.dIn) throw new Error(`ntkGram: ${name} must be [samples, ${r.dIn}], got [${x.shape.join(', ')}]`);
  }
  if (theta.length !== r.depth + 1) throw new Error(`ntkGram: theta has ${theta.length} layer(s), the spec ${r.depth + 1}`);
  return tf.tidy(() => {
    const tA = forwardTrace(r, theta, xA, 1);
    const tB = xB === xA ? tA : forwardTrace(r, theta, xB, 1);
    return ntkGramFromTraces(r, theta, tA, tB);
  });
}
