// HTTP(S) download of one file: streams to a temp file next to the destination, resumes
// (Range) or restarts on transient errors, verifies size and checksums, then renames into place.

import { open, rename, rm, stat, mkdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { retrying } from '../../pipeline/engine/retry.ts';
import { FetchError, errorMessage, isAbort, mismatch } from './errors.ts';
import type { ChecksumSpec } from './catalog.ts';
import { verifyFile, type Digests } from './verify.ts';

export type ProgressFn = (done: number, total: number, message?: string) => void;
export type LogFn = (message: string) => void;

export interface DownloadOptions {
  /** Name used in messages (default: the destination's file name). */
  name?: string;
  /** Retries per URL after a transient error (connection reset, early close, 5xx, 408, 429). Default 4. */
  retries?: number;
  /** Base delay before a retry, doubled each time. Default 1000 ms. */
  retryDelayMs?: number;
  /** Abort an attempt when no byte arrives for this long. Default 30000 ms. */
  stallTimeoutMs?: number;
  onProgress?: ProgressFn;
  log?: LogFn;
  signal?: AbortSignal;
}

/** Network error codes that mean "this host cannot be reached from here": fail fast, no retry. */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'EAI_NONAME', 'ERR_INVALID_URL']);

class Transient extends Error {}

function causeCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeNetworkError(e: unknown): string {
  const code = causeCode(e);
  const inner = e instanceof Error && e.cause instanceof Error ? e.cause.message : '';
  return [errorMessage(e), inner && inner !== errorMessage(e) ? inner : '', code && !inner.includes(code) ? code : '']
    .filter(Boolean)
    .join(': ');
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** A unique temp path next to `dest` (same filesystem, so rename is atomic). */
export function tempPathFor(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
}

/**
 * Download `url` to `dest`, verified against `spec`. Nothing is left at `dest` or in its
 * folder unless the bytes match. Throws FetchError (HTTP_ERROR, NETWORK_ERROR,
 * SIZE_MISMATCH, CHECKSUM_MISMATCH, ABORTED).
 */
export async function downloadFile(url: string, dest: string, spec: ChecksumSpec, opts: DownloadOptions = {}): Promise<Digests> {
  const retries = opts.retries ?? 4;
  const baseDelay = opts.retryDelayMs ?? 1000;
  const stallMs = opts.stallTimeoutMs ?? 30000;
  const log = opts.log ?? (() => {});
  const name = opts.name ?? basename(dest);
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempPathFor(dest);
  let ok = false;
  try {
    await retrying(() => downloadAttempt(url, tmp, spec, stallMs, opts), {
      retries,
      baseDelayMs: baseDelay,
      retryable: (e) => e instanceof Transient && !opts.signal?.aborted,
      onRetry: async (e, n, delay) => log(`${name}: transient error from ${url}: ${errorMessage(e)}; retry ${n}/${retries} in ${delay} ms, resuming at ${await fileSize(tmp)} B`),
      signal: opts.signal,
    }).catch((e: unknown) => {
      if (opts.signal?.aborted || (isAbort(e) && !(e instanceof Transient))) throw new FetchError('ABORTED', `${url}: download aborted`, { file: url, cause: e });
      // Only a transient error is retried, so one thrown here ended the last allowed attempt.
      if (e instanceof Transient) throw new FetchError('NETWORK_ERROR', `${url}: ${e.message}; gave up after ${retries + 1} attempts`, { file: url, cause: e });
      throw e;
    });
    let digests: Digests;
    try {
      digests = await verifyFile(tmp, spec, opts.signal);
    } catch (e) {
      if (e instanceof FetchError) {
        // Name the URL and the destination rather than the temp file.
        throw new FetchError(e.code, e.message.replace(tmp, `${name} (downloaded from ${url})`), {
          file: url,
          expected: e.expected,
          actual: e.actual,
        });
      }
      throw e;
    }
    await rename(tmp, dest);
    ok = true;
    return digests;
  } finally {
    if (!ok) await rm(tmp, { force: true });
  }
}

async function downloadAttempt(url: string, tmp: string, spec: ChecksumSpec, stallMs: number, opts: DownloadOptions): Promise<void> {
  let have = await fileSize(tmp);
  if (have > spec.size) {
    await rm(tmp, { force: true });
    have = 0;
  }
  if (have === spec.size && have > 0) return;
  const stall = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(new Transient(`no data for ${stallMs} ms`)), stallMs);
  };
  const signal = opts.signal ? AbortSignal.any([opts.signal, stall.signal]) : stall.signal;
  arm();
  let res: Response;
  try {
    res = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal, redirect: 'follow' });
  } catch (e) {
    clearTimeout(timer);
    if (stall.signal.aborted) throw new Transient(String(stall.signal.reason instanceof Error ? stall.signal.reason.message : 'stalled'));
    if (isAbort(e)) throw e;
    const code = causeCode(e);
    const msg = describeNetworkError(e);
    if (code && UNREACHABLE.has(code)) {
      throw new FetchError('NETWORK_ERROR', `${url}: unreachable: ${msg}`, { file: url, expected: 'a reachable host', actual: code });
    }
    throw new Transient(msg);
  }
  if (res.status === 416 && have > 0) {
    // Range not satisfiable: the temp file may already be complete; verification decides.
    clearTimeout(timer);
    await res.body?.cancel().catch(() => {});
    return;
  }
  if (!res.ok) {
    clearTimeout(timer);
    await res.body?.cancel().catch(() => {});
    const transient = res.status === 408 || res.status === 429 || res.status >= 500;
    const msg = `HTTP ${res.status} ${res.statusText}`.trim();
    if (transient) throw new Transient(msg);
    throw mismatch('HTTP_ERROR', url, 'HTTP error', '200 OK', msg);
  }
  if (have > 0 && res.status === 206) {
    const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== have) {
      clearTimeout(timer);
      await res.body?.cancel().catch(() => {});
      await rm(tmp, { force: true });
      throw new Transient(`server answered Range ${have}- with Content-Range '${res.headers.get('content-range')}'; restarting`);
    }
  }
  if (have > 0 && res.status !== 206) {
    opts.log?.(`${basename(url)}: server ignored the Range request; restarting from 0`);
    have = 0;
  }
  const fh = await open(tmp, have > 0 ? 'a' : 'w');
  try {
    const total = spec.size;
    let done = have;
    const label = basename(url);
    opts.onProgress?.(done, total, label);
    if (!res.body) throw new Transient('empty response body');
    try {
      for await (const chunk of res.body) {
        arm();
        const buf = chunk as Uint8Array;
        if (done + buf.length > spec.size) {
          throw mismatch('SIZE_MISMATCH', url, 'size mismatch', `${spec.size} B`, `more than ${spec.size} B`, 'server sent more bytes than the catalog says');
        }
        await fh.write(buf);
        done += buf.length;
        opts.onProgress?.(done, total, label);
      }
    } catch (e) {
      if (e instanceof FetchError) throw e;
      if (opts.signal?.aborted) throw e;
      throw new Transient(`connection lost after ${done} of ${total} B: ${describeNetworkError(e)}`);
    }
    if (done < spec.size) throw new Transient(`connection closed early after ${done} of ${total} B`);
  } finally {
    clearTimeout(timer);
    await fh.close();
  }
}

/** A one-line progress bar on stderr (only when stderr is a TTY). */
export function ttyProgress(prefix = ''): ProgressFn {
  let last = 0;
  return (done, total, message) => {
    if (!process.stderr.isTTY) return;
    const now = Date.now();
    if (done < total && now - last < 100) return;
    last = now;
    const width = 30;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(frac * width);
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const line = `${prefix}[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb(done)}/${mb(total)} MB ${message ?? ''}`;
    process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 100) - 1)}`);
    if (done >= total) process.stderr.write('\n');
  };
}
