// The 'params' artifact (train-a1 writes it, correlate reads it): float32 in the platform's
// byte order (little-endian on every supported machine), flat order W_0 (row-major
// [fanIn, fanOut]), b_0, ..., W_L, b_L, as in mlp.ts. No tfjs: stage declarations import this.
import type { HostLayer } from './mlp.ts';
import { paramCounts, resolveSpec, type MlpSpec } from './spec.ts';

/** The artifact's bytes of `arrays` = [W_0, b_0, ..., W_L, b_L], concatenated. */
export function paramsToBytes(arrays: readonly Float32Array[]): Uint8Array {
  const flat = new Float32Array(arrays.reduce((s, a) => s + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    flat.set(a, at);
    at += a.length;
  }
  return new Uint8Array(flat.buffer);
}

/** Layers of a `spec` net from the artifact's bytes; throws, naming `what`, on a size mismatch. */
export function hostParamsFromBytes(spec: MlpSpec, bytes: Uint8Array, what = 'params'): HostLayer[] {
  const r = resolveSpec(spec);
  const total = paramCounts(r).total;
  if (bytes.byteLength !== 4 * total)
    throw new Error(`${what}: ${bytes.byteLength} bytes, but a ${r.sizes.join('-')} net has ${total} float32 parameters (${4 * total} bytes)`);
  // Copy: a Buffer from the store may sit at an offset that is not a multiple of 4.
  const flat = new Float32Array(total);
  new Uint8Array(flat.buffer).set(bytes);
  const layers: HostLayer[] = [];
  let at = 0;
  for (let l = 0; l <= r.depth; l++) {
    const fanIn = r.sizes[l];
    const fanOut = r.sizes[l + 1];
    const W = flat.slice(at, (at += fanIn * fanOut));
    const b = flat.slice(at, (at += fanOut));
    layers.push({ fanIn, fanOut, W, b });
  }
  return layers;
}
