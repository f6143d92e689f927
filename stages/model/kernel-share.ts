// Per-layer traces of the empirical NTK at theta0, and the share of it that grows with width
// (docs/science.md, "Regime"): exact, from one forward trace and the backprop of every output,
// the very backprop ntk-gram.ts builds the kernel from (its diagonal, summed, is this trace).
import { tf } from './backend.ts';
import { forwardTrace, resolveSpec, type MlpSpec, type Params } from './mlp.ts';
import { backOne, outputRows } from './ntk-gram.ts';

export interface LayerKernelTrace {
  /** sum over samples x and outputs k of |d f_k(x) / d W_l|^2 */
  weights: number;
  /** the same for b_l */
  bias: number;
}

/**
 * tr Theta_l over the rows of x for every layer l = 0..L, split into weights and bias.
 * For one sample and output k, with delta_l^k = d f_k / d z_l (a row of the backprop):
 *   |d f_k / d W_l|^2 = c_l^2 |a_l|^2 |delta_l^k|^2,   |d f_k / d b_l|^2 = s_l^2 |delta_l^k|^2,
 * since d f_k / d W_l = c_l a_l^T delta_l^k is an outer product. The rows of ntk-gram.ts's
 * backprop carry every (sample, output) pair's delta at once, so this is one backprop of n dOut
 * rows, never a Jacobian; summing over outputs first, sum_k |a_l|^2 |delta_l^k|^2 = |a_l|^2 sum_k |delta_l^k|^2.
 */
export async function kernelLayerTraces(spec: MlpSpec, params: Params, x: tf.Tensor2D): Promise<LayerKernelTrace[]> {
  const r = resolveSpec(spec);
  const n = x.shape[0];
  const sums = tf.tidy(() => {
    const trace = forwardTrace(r, params, x, 1);
    const wSum: tf.Tensor[] = [];
    const bSum: tf.Tensor[] = [];
    let delta = outputRows(n, r.dOut);
    for (let l = r.depth; l >= 0; l--) {
      // sum_k |delta_l^k|^2 per sample (rows are ordered (sample, output)).
      const dNorm = delta.square().sum(1).reshape([n, r.dOut]).sum(1);
      wSum[l] = trace.a[l].square().sum(1).mul(dNorm).sum().mul(r.wScale[l] ** 2);
      bSum[l] = dNorm.sum().mul(r.bScale[l] ** 2);
      if (l > 0) delta = backOne(r, params, trace, l, delta);
    }
    return tf.stack([tf.stack(wSum), tf.stack(bSum)]);
  });
  try {
    const v = await sums.data();
    const L = r.depth + 1;
    return Array.from({ length: L }, (_, l) => ({ weights: v[l], bias: v[L + l] }));
  } finally {
    sums.dispose();
  }
}

/**
 * The part of the kernel whose layers have fan-in n (every weight matrix after the first). In the
 * standard parameterization each such term grows like n (|a_l|^2 sums n units at unit scale), while
 * the first layer and the biases stay O(1): the share reaching ~1 is the regime in which
 * eta_the ~ 1/n holds. In the NTK and mean-field parameterizations c_l^2 = sigma_w^2 / n cancels
 * the growth, and the share stays of order one at every width.
 */
export function widthProportionalShare(traces: readonly LayerKernelTrace[]): number {
  const total = traces.reduce((s, t) => s + t.weights + t.bias, 0);
  const grows = traces.slice(1).reduce((s, t) => s + t.weights, 0);
  return grows / total;
}
