// Seeded PRNGs in plain JS (no tfjs), so that draws are bit-identical on every backend:
// tf.randomNormal's stream depends on the backend's kernel. Rng draws initial parameters
// (exportable to PyTorch) and index sets; mulberry32 drives the fits' seed bootstrap.
//
// Rng: xoshiro128** (Blackman & Vigna), state seeded by splitmix32 from a 32-bit key.
// Uniforms have 53 random bits (two draws); normals by Box-Muller using both outputs
// (cos then sin). Math.log/sqrt/cos/sin are V8's fdlibm ports, deterministic across machines
// for a given Node/V8 version.

/** 32-bit mix (murmur3 finalizer). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash a list of non-negative integers (each < 2^53) into one 32-bit key. */
export function hashKey(parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    if (!Number.isSafeInteger(p) || p < 0) throw new Error(`hashKey: ${p} is not a non-negative safe integer`);
    const lo = p >>> 0;
    const hi = Math.floor(p / 0x100000000) >>> 0;
    h = fmix32((h ^ lo) + 0x6d2b79f5);
    h = fmix32((h ^ hi) + 0x6d2b79f5);
  }
  return h;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(key: number) {
    // splitmix32 expands the key into a non-zero 128-bit state.
    let x = key >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal (Box-Muller, both outputs used). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * u2;
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /** Integer uniform in [0, n) without modulo bias (n < 2^53). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Fill `out` with N(0,1) values (rounded to float32 when out is a Float32Array). */
export function fillNormal(rng: Rng, out: Float32Array | Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
}

/** Fill `out` with U(-bound, bound) values. */
export function fillUniform(rng: Rng, out: Float32Array | Float64Array, bound: number): void {
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * bound;
}

/** 32-bit FNV-1a hash of a string (mulberry32's seed for string seeds). */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * mulberry32: a small stream of floats in [0, 1) with 32 random bits, for the fits' seed
 * bootstrap. Kept apart from Rng because stored fit CIs were drawn with this exact stream.
 */
export function mulberry32(seed: number | string): () => number {
  let a = typeof seed === 'string' ? hashString(seed) : (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
