// CIFAR-10 binary records: 1 label byte, then 1024 R, 1024 G, 1024 B bytes (each plane
// row-major 32 x 32). We convert to interleaved HWC (NHWC for the whole split).

import { FetchError, mismatch } from './errors.ts';

export const CIFAR_SIDE = 32;
export const CIFAR_PLANE = CIFAR_SIDE * CIFAR_SIDE; // 1024
export const CIFAR_PIXELS = 3 * CIFAR_PLANE; // 3072
export const CIFAR_RECORD = 1 + CIFAR_PIXELS; // 3073

export interface CifarRecords {
  count: number;
  labels: Uint8Array;
  /** N x 32 x 32 x 3, interleaved RGB. */
  images: Uint8Array;
}

/** Number of records in a CIFAR-10 binary file, checking the record length. */
export function cifarRecordCount(label: string, byteLength: number, expectRecords?: number): number {
  if (byteLength % CIFAR_RECORD !== 0) {
    const hint =
      byteLength % 3074 === 0
        ? 'the size is a multiple of 3074: a CIFAR-100 file (2 label bytes)?'
        : `${byteLength} B is not a whole number of records (remainder ${byteLength % CIFAR_RECORD} B)`;
    throw mismatch('BAD_RECORD_LENGTH', label, 'bad CIFAR-10 record length', `records of ${CIFAR_RECORD} B (1 label + 3072 pixels)`, `${byteLength} B total`, hint);
  }
  const n = byteLength / CIFAR_RECORD;
  if (expectRecords !== undefined && n !== expectRecords) {
    throw mismatch('BAD_LENGTH', label, 'record count', expectRecords, n);
  }
  return n;
}

/**
 * Parse CIFAR-10 binary records from several files into one split, in file order.
 * Labels must be in 0..numClasses-1.
 */
export function parseCifarFiles(
  files: { label: string; bytes: Uint8Array; records?: number }[],
  numClasses = 10,
): CifarRecords {
  const counts = files.map((f) => cifarRecordCount(f.label, f.bytes.length, f.records));
  const total = counts.reduce((a, b) => a + b, 0);
  const labels = new Uint8Array(total);
  const images = new Uint8Array(total * CIFAR_PIXELS);
  let n = 0;
  files.forEach((f, fi) => {
    const src = f.bytes;
    for (let r = 0; r < counts[fi]; r++, n++) {
      const off = r * CIFAR_RECORD;
      const lab = src[off];
      if (lab >= numClasses) {
        throw mismatch('BAD_LABEL', f.label, `label of record ${r} (byte offset ${off}) out of range`, `0..${numClasses - 1}`, lab);
      }
      labels[n] = lab;
      const rOff = off + 1;
      const gOff = rOff + CIFAR_PLANE;
      const bOff = gOff + CIFAR_PLANE;
      let d = n * CIFAR_PIXELS;
      for (let p = 0; p < CIFAR_PLANE; p++) {
        images[d++] = src[rOff + p];
        images[d++] = src[gOff + p];
        images[d++] = src[bOff + p];
      }
    }
  });
  if (n !== total) throw new FetchError('BAD_LENGTH', `internal: parsed ${n} of ${total} records`);
  return { count: total, labels, images };
}
