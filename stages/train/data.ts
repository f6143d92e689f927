// Turning fetch artifacts into training arrays: flatten, scale to [0,1], optional z-score,
// one-hot targets, seeded permutations and batches.
import { Rng, hashKey } from '../model/prng.ts';

export interface Split {
  /** uint8 images, each flattened in the artifact's NHWC byte order (CIFAR: interleaved RGB) */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  dim: number;
}

export function splitFromBytes(images: Uint8Array, labels: Uint8Array, what: string): Split {
  const count = labels.length;
  if (count === 0 || images.length % count !== 0)
    throw new Error(`${what}: ${images.length} image bytes do not divide into ${count} labelled images`);
  return { images, labels, count, dim: images.length / count };
}

/** Fisher-Yates permutation of 0..n-1 from a seeded stream. */
export function permutation(n: number, key: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rng = new Rng(key);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Rows `indices` of the split as float32 pixel/255, row-major [indices.length, dim]. */
export function gatherScaled(split: Split, indices: ArrayLike<number>): Float32Array {
  const { dim } = split;
  const out = new Float32Array(indices.length * dim);
  for (let r = 0; r < indices.length; r++) {
    const src = indices[r]! * dim;
    for (let k = 0; k < dim; k++) out[r * dim + k] = split.images[src + k]! / 255;
  }
  return out;
}

/** z-scores in place with the array's own global mean and std (the authors' A.1 code). */
export function zscoreInPlace(x: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of x) sum += v;
  const mean = sum / x.length;
  let ss = 0;
  for (const v of x) ss += (v - mean) * (v - mean);
  const std = Math.sqrt(ss / x.length);
  if (!(std > 0)) throw new Error('z-score: the samples have zero variance');
  for (let i = 0; i < x.length; i++) x[i] = (x[i]! - mean) / std;
  return { mean, std };
}

export function oneHot(split: Split, indices: ArrayLike<number>, classes = 10): Float32Array {
  const y = new Float32Array(indices.length * classes);
  for (let r = 0; r < indices.length; r++) {
    const label = split.labels[indices[r]!]!;
    if (label >= classes) throw new Error(`label ${label} is out of range 0..${classes - 1}`);
    y[r * classes + label] = 1;
  }
  return y;
}

/**
 * SGD batch order: a fresh seeded permutation per epoch, batches of `batch`, last partial batch
 * dropped (PyTorch DataLoader shuffle=True, drop_last=True semantics; not its RNG stream).
 */
export function* sgdBatches(count: number, batch: number, seed: number): Generator<Uint32Array> {
  if (batch > count) throw new Error(`batch ${batch} is larger than the ${count} training images`);
  for (let epoch = 0; ; epoch++) {
    const perm = permutation(count, hashKey([seed, 0x5eed, epoch]));
    for (let start = 0; start + batch <= count; start += batch) yield perm.subarray(start, start + batch);
  }
}

/**
 * The fixed renumbering of the rounding-floor measurement (loop.ts, function-space.ts): one
 * permutation of each layer's inputs, l = 0..L, for layer sizes `sizes` (input first).
 */
export function floorPermutations(sizes: readonly number[]): Int32Array[] {
  return sizes.slice(0, -1).map((n, l) => Int32Array.from(permutation(n, hashKey([0xf1003, l, n]))));
}
