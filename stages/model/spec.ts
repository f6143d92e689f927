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
  /**
   * Mean-field only: the output layer's extra exponent gamma, c_L = sigma_w n^(-1/2-gamma) and
   * s_L = sigma_b n^(-gamma) (kappa = n^-gamma on top of NTK), in [0, 1/2]; default 1/2 (mean-field /
   * muP). With eta = lr0 n^(2 gamma) it interpolates NTK (0) and mean-field (1/2): the dose-response.
   */
  outputExponent?: number;
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
  /** mean-field: gamma (default 1/2); 0 otherwise (see MlpSpec.outputExponent) */
  outputExponent: number;
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
  const mf = spec.parameterization === 'meanfield';
  const gamma = spec.outputExponent ?? (mf ? 0.5 : 0);
  // A ResolvedSpec passed back in carries gamma = 0 outside mean-field.
  if (spec.outputExponent !== undefined && spec.outputExponent !== 0 && !mf) throw new Error(`MlpSpec.outputExponent is for the mean-field parameterization only, got it with '${spec.parameterization}'`);
  if (!(gamma >= 0 && gamma <= 0.5)) throw new Error(`MlpSpec.outputExponent must be in [0, 0.5], got ${spec.outputExponent}`);
  const sizes = [spec.dIn, ...Array<number>(spec.depth).fill(spec.width), dOut];
  const wScale: number[] = [];
  const bScale: number[] = [];
  const std = spec.parameterization === 'standard';
  for (let l = 0; l <= spec.depth; l++) {
    // kappa = n^-gamma on the output layer (weights and bias); gamma = 1/2 written exactly.
    const out = mf && l === spec.depth;
    const c = sigmaW / Math.sqrt(sizes[l]);
    wScale.push(std ? 1 : !out ? c : gamma === 0.5 ? sigmaW / sizes[l] : c * Math.pow(sizes[l], -gamma));
    bScale.push(std ? 1 : !out ? sigmaB : gamma === 0.5 ? sigmaB / Math.sqrt(sizes[l]) : sigmaB * Math.pow(sizes[l], -gamma));
  }
  return { dIn: spec.dIn, width: spec.width, depth: spec.depth, dOut, activation: spec.activation, parameterization: spec.parameterization, sigmaW, sigmaB, outputExponent: gamma, sizes, wScale, bScale };
}

/** Number of parameters of each layer (W then b) and in total. */
export function paramCounts(spec: MlpSpec): { perLayer: number[]; total: number } {
  const r = resolveSpec(spec);
  const perLayer = r.sizes.slice(0, -1).map((fanIn, l) => fanIn * r.sizes[l + 1] + r.sizes[l + 1]);
  return { perLayer, total: perLayer.reduce((s, v) => s + v, 0) };
}


/** The artifact's model description (contracts/common.ts ModelDesc): gamma only where it is not mean-field's default 1/2. */
export function modelDesc(spec: MlpSpec | ResolvedSpec): { dIn: number; sizes: number[]; parameterization: Parameterization; sigmaW: number; sigmaB: number; outputExponent?: number; parameters: number } {
  const r = resolveSpec(spec);
  return {
    dIn: r.dIn, sizes: r.sizes, parameterization: r.parameterization, sigmaW: r.sigmaW, sigmaB: r.sigmaB,
    ...(r.parameterization === 'meanfield' && r.outputExponent !== 0.5 ? { outputExponent: r.outputExponent } : {}),
    parameters: paramCounts(r).total,
  };
}
