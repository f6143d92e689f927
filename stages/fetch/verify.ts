// Size and checksum verification of files and buffers.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { FetchError, mismatch } from './errors.ts';
import type { ChecksumSpec } from './catalog.ts';

export interface Digests {
  size: number;
  sha256: string;
  md5: string;
}

export function digestBytes(bytes: Uint8Array): Digests {
  return {
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    md5: createHash('md5').update(bytes).digest('hex'),
  };
}

/** Stream a file once through sha256 and md5. */
export async function digestFile(path: string, signal?: AbortSignal): Promise<Digests> {
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  let size = 0;
  for await (const chunk of createReadStream(path, { signal, highWaterMark: 1 << 20 })) {
    const b = chunk as Buffer;
    sha.update(b);
    md5.update(b);
    size += b.length;
  }
  return { size, sha256: sha.digest('hex'), md5: md5.digest('hex') };
}

/** Names of the checks a spec implies, e.g. ['size', 'sha256', 'md5']. */
export function checksPerformed(spec: ChecksumSpec): string[] {
  return ['size', ...(spec.sha256 ? ['sha256'] : []), ...(spec.md5 ? ['md5'] : [])];
}

/** Compare digests with a spec; throws SIZE_MISMATCH or CHECKSUM_MISMATCH naming `label`. */
export function checkDigests(label: string, spec: ChecksumSpec, got: Digests): void {
  if (got.size !== spec.size) {
    const hint = got.size < spec.size ? 'file is truncated' : 'file is longer than expected';
    throw mismatch('SIZE_MISMATCH', label, 'size mismatch', `${spec.size} B`, `${got.size} B`, hint);
  }
  if (spec.sha256 && got.sha256 !== spec.sha256) {
    throw mismatch('CHECKSUM_MISMATCH', label, 'checksum mismatch', `sha256 ${spec.sha256}`, `sha256 ${got.sha256}`);
  }
  if (spec.md5 && got.md5 !== spec.md5) {
    throw mismatch('CHECKSUM_MISMATCH', label, 'checksum mismatch', `md5 ${spec.md5}`, `md5 ${got.md5}`);
  }
}

/** Verify a file on disk (size first, then every checksum in the spec). Returns its digests. */
export async function verifyFile(path: string, spec: ChecksumSpec, signal?: AbortSignal): Promise<Digests> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new FetchError('MISSING_FILE', `${path}: file not found`, { file: path, expected: 'a file', actual: 'missing' });
  }
  if (!st.isFile()) {
    throw new FetchError('MISSING_FILE', `${path}: not a regular file`, { file: path, expected: 'a file', actual: 'not a file' });
  }
  if (st.size !== spec.size) {
    checkDigests(path, spec, { size: st.size, sha256: '', md5: '' });
  }
  const got = await digestFile(path, signal);
  checkDigests(path, spec, got);
  return got;
}

export function verifyBytes(label: string, bytes: Uint8Array, spec: ChecksumSpec): Digests {
  const got = digestBytes(bytes);
  checkDigests(label, spec, got);
  return got;
}
