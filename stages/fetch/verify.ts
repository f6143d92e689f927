// Size and checksum verification of files and buffers.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
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

/**
 * When `head` (a file's first bytes) is an HTML page, a short description of it (its title):
 * a login, error or "file moved" page saved under a dataset file's name.
 */
export function htmlPage(head: Uint8Array): string | undefined {
  const text = Buffer.from(head.subarray(0, 2048)).toString('latin1');
  if (!/^\uFEFF?\s*<(!doctype html|html|head|body|title|meta|!--)/i.test(text.replace(/^\xEF\xBB\xBF/, ''))) return undefined;
  if (!/<(html|head|body|title|meta)\b/i.test(text)) return undefined;
  const title = /<title[^>]*>([^<]{0,120})/i.exec(text)?.[1]?.replace(/\s+/g, ' ').trim();
  return title ? `an HTML page titled "${title}"` : 'an HTML page';
}

/** Reads the first bytes of a file (for `htmlPage`), or an empty buffer when it cannot. */
export async function fileHead(path: string, n = 2048): Promise<Buffer> {
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return Buffer.alloc(0);
  }
}

/**
 * Compare digests with a spec; throws SIZE_MISMATCH or CHECKSUM_MISMATCH naming `label`, or
 * HTML_PAGE when the content (`head`: its first bytes, when known) is a web page.
 */
export function checkDigests(label: string, spec: ChecksumSpec, got: Digests, head?: Uint8Array): void {
  const page = got.size !== spec.size || (spec.sha256 && got.sha256 !== spec.sha256) ? head && htmlPage(head) : undefined;
  if (page) {
    throw new FetchError('HTML_PAGE', `${label}: ${page}, not the dataset file: expected ${spec.size} B, got ${got.size} B of HTML (a saved error or login page?); replace it with the real file`, {
      file: label,
      expected: `${spec.size} B`,
      actual: page,
    });
  }
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
    checkDigests(path, spec, { size: st.size, sha256: '', md5: '' }, await fileHead(path));
  }
  const got = await digestFile(path, signal);
  const differs = got.size !== spec.size || (spec.sha256 && got.sha256 !== spec.sha256);
  checkDigests(path, spec, got, differs ? await fileHead(path) : undefined);
  return got;
}
