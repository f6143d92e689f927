// A tiny WebAssembly binary emitter: enough of the format for a module that imports a memory and
// exports functions of i32 parameters computing on f32x4 / f64x2 / i64x2 vectors (the SIMD kernels:
// gelu-simd.ts, elementwise-simd.ts). The kernels are written as TypeScript calls on `Code` (one per
// instruction, named as in the WebAssembly text format), so no assembler or compiler is needed at
// install or run time; WebAssembly.validate and the kernels' tests check what it writes.

/** Value types (binary encodings). */
export const I32 = 0x7f;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof V128;

function uleb(n: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`wasm-emit: ${n} is not an unsigned integer`);
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  if (!Number.isInteger(n)) throw new Error(`wasm-emit: ${n} is not an integer`);
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n = Math.floor(n / 128);
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

// SIMD instructions (prefix 0xfd) by text-format name: their sub-opcodes.
const SIMD = {
  'f64x2.splat': 0x14,
  'f64x2.eq': 0x47, 'f64x2.ne': 0x48, 'f64x2.lt': 0x49, 'f64x2.gt': 0x4a, 'f64x2.le': 0x4b, 'f64x2.ge': 0x4c,
  'v128.not': 0x4d, 'v128.and': 0x4e, 'v128.andnot': 0x4f, 'v128.or': 0x50, 'v128.xor': 0x51, 'v128.bitselect': 0x52, 'v128.any_true': 0x53,
  'f32x4.demote_f64x2_zero': 0x5e, 'f64x2.promote_low_f32x4': 0x5f,
  'i64x2.shl': 0xcb, 'i64x2.add': 0xce, 'i64x2.sub': 0xd1,
  'f32x4.add': 0xe4, 'f32x4.mul': 0xe6,
  'f64x2.abs': 0xec, 'f64x2.neg': 0xed, 'f64x2.add': 0xf0, 'f64x2.sub': 0xf1, 'f64x2.mul': 0xf2, 'f64x2.div': 0xf3,
  'f64x2.min': 0xf4, 'f64x2.max': 0xf5,
} as const;
export type SimdOp = keyof typeof SIMD;

/** One function body, instruction by instruction. Locals are numbered after the parameters. */
export class Code {
  readonly bytes: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(readonly params: readonly ValType[], readonly results: readonly ValType[]) {}

  /** A new local of type `t`; returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  op(name: SimdOp): this {
    this.bytes.push(0xfd, ...uleb(SIMD[name]));
    return this;
  }
  get(i: number): this { this.bytes.push(0x20, ...uleb(i)); return this; }
  set(i: number): this { this.bytes.push(0x21, ...uleb(i)); return this; }
  tee(i: number): this { this.bytes.push(0x22, ...uleb(i)); return this; }
  i32(n: number): this { this.bytes.push(0x41, ...sleb(n | 0)); return this; }
  i32add(): this { this.bytes.push(0x6a); return this; }
  i32ltU(): this { this.bytes.push(0x49); return this; }
  i32eqz(): this { this.bytes.push(0x45); return this; }
  /** f64x2.splat of a constant (f64.const then the splat). */
  f64x2(v: number): this {
    const b = new Uint8Array(new Float64Array([v]).buffer);
    this.bytes.push(0x44, ...b);
    return this.op('f64x2.splat');
  }
  /** A v128 constant with both i64 lanes equal to `v` (a BigInt: any 64-bit pattern). */
  i64x2(v: bigint): this {
    const b = new Uint8Array(new BigInt64Array([v, v]).buffer);
    this.bytes.push(0xfd, 0x0c, ...b);
    return this;
  }
  /** v128.load: 16 bytes at address + offset. */
  load(offset = 0): this { this.bytes.push(0xfd, 0x00, 4, ...uleb(offset)); return this; }
  /** v128.store: 16 bytes to address + offset. */
  store(offset = 0): this { this.bytes.push(0xfd, 0x0b, 4, ...uleb(offset)); return this; }
  /** v128.load64_zero: 8 bytes at address + offset into the low lane. */
  load64Zero(offset = 0): this { this.bytes.push(0xfd, 0x5d, 3, ...uleb(offset)); return this; }
  /** v128.store64_lane 0: the low 8 bytes to address + offset. */
  store64Lane0(offset = 0): this { this.bytes.push(0xfd, 0x5b, 3, ...uleb(offset), 0); return this; }
  block(): this { this.bytes.push(0x02, 0x40); return this; }
  loop(): this { this.bytes.push(0x03, 0x40); return this; }
  if(): this { this.bytes.push(0x04, 0x40); return this; }
  end(): this { this.bytes.push(0x0b); return this; }
  br(depth: number): this { this.bytes.push(0x0c, ...uleb(depth)); return this; }
  brIf(depth: number): this { this.bytes.push(0x0d, ...uleb(depth)); return this; }

  /** The encoded body: local declarations, the instructions, end. */
  body(): number[] {
    const groups: number[][] = [];
    for (const t of this.locals) {
      const last = groups.at(-1);
      if (last && last[1] === t) last[0]!++;
      else groups.push([1, t]);
    }
    const b = [...vec(groups.map(([n, t]) => [...uleb(n!), t!])), ...this.bytes, 0x0b];
    return [...uleb(b.length), ...b];
  }
}

/**
 * A module importing memory `env.memory` (shared or not, as the memory it will be given) and
 * exporting each function under its name.
 */
export function moduleBytes(opts: { sharedMemory: boolean; functions: { name: string; code: Code }[] }): Uint8Array<ArrayBuffer> {
  const { functions } = opts;
  const types = functions.map(({ code }) => [0x60, ...vec(code.params.map((t) => [t])), ...vec(code.results.map((t) => [t]))]);
  // Memory limits: shared memories need a maximum; 65536 pages (4 GiB) admits any memory.
  const limits = opts.sharedMemory ? [0x03, 0, ...uleb(65536)] : [0x00, 0];
  const name = (s: string): number[] => [...uleb(utf8(s).length), ...utf8(s)];
  const imports = vec([[...name('env'), ...name('memory'), 0x02, ...limits]]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(functions.map(({ code }) => code.body()))),
  ]);
}
