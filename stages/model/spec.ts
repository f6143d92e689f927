// Network specification: pure arithmetic, no tfjs import, so a parent process (stage
// declarations, cache keys) can validate specs and count parameters without loading tfjs.
import { ACTIVATIONS, type ActivationName } from './activation-names.ts';

/**
 * ntk: c_l = sigma_w / sqrt(fanIn), s_l = sigma_b. meanfield: the same, except the output layer's
 * c_L = sigma_w / n and s_L = sigma_b / sqrt(n) (n = its fan-in): muP with every raw parameter
 * N(0, 1) and one global learning rate eta = lr0 n (docs/science.md). Then f_MF = f_NTK / sqrt(n)
 * for the same theta, the output bias's kernel term eta s_L^2 stays O(1), and the linearization
 * should not become exact with width: the negative control.
 */
export type Parameterization = 'ntk' | 'standard' | 'meanfield';
export const PARAMETERIZATIONS: readonly Parameterization[] = ['ntk', 'standard', 'meanfield'];

export interface MlpSpec {
  dIn: number;
  /** hidden width n */
  width: number;
  /** number of hidden layers L (>= 1) */
  depth: number;
  /** default 10 */
  dOut?: number;
  activation: ActivationName;
  parameterization: Parameterization;
  /** NTK and mean-field only; default 1 */
  sigmaW?: number;
  /** NTK and mean-field only; default 0.05 */
  sigmaB?: number;
}

export interface ResolvedSpec {
  dIn: number;
  width: number;
  depth: number;
  dOut: number;
  activation: ActivationName;
  parameterization: Parameterization;
  sigmaW: number;
  sigmaB: number;
  /** layer sizes n_0 = dIn, n_1..n_L = width, n_{L+1} = dOut */
  sizes: number[];
  /** weight scale c_l per layer (l = 0..L) */
  wScale: number[];
  /** bias scale s_l per layer */
  bScale: number[];
}

export function resolveSpec(spec: MlpSpec | ResolvedSpec): ResolvedSpec {
  const dOut = spec.dOut ?? 10;
  const sigmaW = spec.sigmaW ?? 1;
  const sigmaB = spec.sigmaB ?? 0.05;
  for (const [k, v] of [['dIn', spec.dIn], ['width', spec.width], ['depth', spec.depth], ['dOut', dOut]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`MlpSpec.${k} must be a positive integer, got ${v}`);
  }
  if (!PARAMETERIZATIONS.includes(spec.parameterization)) {
    throw new Error(`unknown parameterization '${spec.parameterization as string}': expected ${PARAMETERIZATIONS.join(', ')}`);
  }
  if (!ACTIVATIONS.includes(spec.activation)) {
    throw new Error(`unknown activation '${spec.activation as string}': expected one of ${ACTIVATIONS.join(', ')}`);
  }
  const sizes = [spec.dIn, ...Array<number>(spec.depth).fill(spec.width), dOut];
  const wScale: number[] = [];
  const bScale: number[] = [];
  const std = spec.parameterization === 'standard';
  for (let l = 0; l <= spec.depth; l++) {
    const meanFieldOut = spec.parameterization === 'meanfield' && l === spec.depth;
    wScale.push(std ? 1 : meanFieldOut ? sigmaW / sizes[l] : sigmaW / Math.sqrt(sizes[l]));
    bScale.push(std ? 1 : meanFieldOut ? sigmaB / Math.sqrt(sizes[l]) : sigmaB);
  }
  return { dIn: spec.dIn, width: spec.width, depth: spec.depth, dOut, activation: spec.activation, parameterization: spec.parameterization, sigmaW, sigmaB, sizes, wScale, bScale };
}

/** Number of parameters of each layer (W then b) and in total. */
export function paramCounts(spec: MlpSpec): { perLayer: number[]; total: number } {
  const r = resolveSpec(spec);
  const perLayer = r.sizes.slice(0, -1).map((fanIn, l) => fanIn * r.sizes[l + 1] + r.sizes[l + 1]);
  return { perLayer, total: perLayer.reduce((s, v) => s + v, 0) };
}

