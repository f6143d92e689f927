// gzip decoding and the idx format (LeCun's MNIST file format).
// Header: 2 zero bytes, a type byte (0x08 = uint8), a byte with the number of dims,
// then each dim as a big-endian uint32, then the data, row-major.

import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { FetchError, mismatch } from './errors.ts';

const gunzipAsync = promisify(gunzip);

/** Magic numbers of uint8 idx files: 0x00000801 (1-d labels), 0x00000803 (3-d images). */
export const IDX_MAGIC_LABELS = 0x00000801;
export const IDX_MAGIC_IMAGES = 0x00000803;

/** Decompress a gzip buffer; a truncated or corrupt stream gives a FetchError naming `label`. */
export async function gunzipBytes(label: string, bytes: Uint8Array): Promise<Buffer> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    const actual = bytes.length < 2 ? `${bytes.length} B` : `0x${hex2(bytes[0])}${hex2(bytes[1])}`;
    throw mismatch('BAD_GZIP', label, 'not a gzip file: bad gzip magic', '0x1f8b', actual);
  }
  try {
    return await gunzipAsync(bytes);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = (e as Error).message;
    if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(msg)) {
      throw new FetchError(
        'TRUNCATED_GZIP',
        `${label}: truncated gzip: expected a complete gzip stream (with its 8-byte trailer), got ${bytes.length} B ending early (${msg})`,
        { file: label, expected: 'complete gzip stream', actual: `${bytes.length} B, ends early`, cause: e },
      );
    }
    throw new FetchError('BAD_GZIP', `${label}: corrupt gzip data: ${msg}`, {
      file: label,
      expected: 'valid gzip stream',
      actual: msg,
      cause: e,
    });
  }
}

function hex2(b: number | undefined): string {
  return (b ?? 0).toString(16).padStart(2, '0');
}

export interface IdxArray {
  magic: number;
  dims: number[];
  /** The payload (a view into the decoded buffer), row-major uint8. */
  data: Uint8Array;
}

/**
 * Parse a decoded idx file. Checks the magic (uint8 type, dims), the header dims against
 * `expect.dims` when given, and the payload length against the header.
 */
export function parseIdx(label: string, bytes: Uint8Array, expect: { magic?: number; dims?: number[] } = {}): IdxArray {
  if (bytes.length < 4) {
    throw mismatch('BAD_LENGTH', label, 'too short for an idx header', '>= 4 B', `${bytes.length} B`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const magicHex = (m: number) => `0x${m.toString(16).padStart(8, '0')}`;
  if (expect.magic !== undefined && magic !== expect.magic) {
    throw mismatch('BAD_MAGIC', label, 'bad idx magic number', magicHex(expect.magic), magicHex(magic));
  }
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) {
    throw mismatch('BAD_MAGIC', label, 'bad idx magic number (want 0x0000 08 <ndim>: unsigned bytes)', '0x000008nn', magicHex(magic));
  }
  const ndim = bytes[3];
  if (ndim < 1 || ndim > 4) throw mismatch('BAD_MAGIC', label, 'bad idx dimension count', '1..4', ndim);
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) {
    throw mismatch('BAD_LENGTH', label, 'too short for its idx header', `>= ${headerLen} B`, `${bytes.length} B`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  if (expect.dims) {
    const same = expect.dims.length === dims.length && expect.dims.every((d, i) => d === dims[i]);
    if (!same) throw mismatch('BAD_DIMS', label, 'idx header dims', `[${expect.dims.join(', ')}]`, `[${dims.join(', ')}]`);
  }
  const want = dims.reduce((a, b) => a * b, 1);
  const have = bytes.length - headerLen;
  if (have !== want) {
    throw mismatch(
      'BAD_LENGTH',
      label,
      `idx payload length (header dims [${dims.join(', ')}])`,
      `${want} B`,
      `${have} B`,
      have < want ? 'file is truncated' : 'trailing bytes after the data',
    );
  }
  return { magic, dims, data: bytes.subarray(headerLen) };
}

/** Check every label is in [0, numClasses); throws BAD_LABEL naming the index. */
export function checkLabels(label: string, labels: Uint8Array, numClasses: number): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw mismatch('BAD_LABEL', label, `label of item ${i} out of range`, `0..${numClasses - 1}`, labels[i]);
    }
  }
}
