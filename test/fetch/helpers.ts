// Fixtures for the fetch tests: small idx and CIFAR files, a catalog describing them, and a
// loopback HTTP server that can drop connections, refuse ranges, fail or serve wrong bytes.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { mkdtemp, mkdir, writeFile, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { create as tarCreate } from 'tar';
import type { Catalog, CatalogDataset, CatalogFile } from '../../stages/fetch/catalog.ts';

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Deterministic pseudo-random bytes. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
}

export function idxBytes(magic: number, dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

export function makeImages(n: number, h: number, w: number, seed: number): Uint8Array {
  const r = prng(seed);
  return Uint8Array.from({ length: n * h * w }, () => r());
}

export function makeLabels(n: number, seed: number, k = 10): Uint8Array {
  const r = prng(seed);
  return Uint8Array.from({ length: n }, () => r() % k);
}

/** CIFAR records: label, then R, G, B planes of 1024 bytes. Pixel values encode (n, channel, p). */
export function cifarRecords(labels: number[], seed: number): Buffer {
  const r = prng(seed);
  const out = Buffer.alloc(labels.length * 3073);
  labels.forEach((l, n) => {
    out[n * 3073] = l;
    for (let i = 0; i < 3072; i++) out[n * 3073 + 1 + i] = r();
  });
  return out;
}

export const gz = (b: Uint8Array) => gzipSync(b, { level: 9 });
/** Same content, other gzip bytes (as Debian's rewritten headers). */
export const regz = (b: Uint8Array) => {
  const out = gzipSync(b, { level: 1 });
  out[4] = 0x12; // mtime field
  out[9] = 3; // OS = Unix
  return out;
};

export interface TinyIdx {
  files: Record<string, Buffer>; // gz bytes by name
  decoded: Record<string, Buffer>;
  entry: CatalogDataset;
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

export function fileEntry(name: string, bytes: Uint8Array, extra: Partial<CatalogFile> = {}): CatalogFile {
  return { name, size: bytes.length, sha256: sha256(bytes), md5: md5(bytes), ...extra };
}

/** A 6-train / 4-test idx dataset, 28 x 28 x 1. */
export function tinyIdx(urls: string[] = []): TinyIdx {
  const trainImages = makeImages(6, 28, 28, 1);
  const trainLabels = makeLabels(6, 2);
  const testImages = makeImages(4, 28, 28, 3);
  const testLabels = makeLabels(4, 4);
  const decoded: Record<string, Buffer> = {
    'train-images-idx3-ubyte.gz': idxBytes(0x803, [6, 28, 28], trainImages),
    'train-labels-idx1-ubyte.gz': idxBytes(0x801, [6], trainLabels),
    't10k-images-idx3-ubyte.gz': idxBytes(0x803, [4, 28, 28], testImages),
    't10k-labels-idx1-ubyte.gz': idxBytes(0x801, [4], testLabels),
  };
  const files: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(decoded)) files[k] = gz(v);
  const entry: CatalogDataset = {
    title: 'tiny idx',
    format: 'idx-gz',
    homepage: 'https://example.invalid/',
    license: 'test',
    citation: 'test',
    image: { height: 28, width: 28, channels: 1 },
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    urls,
    files: Object.keys(files).map((name) =>
      fileEntry(name, files[name], {
        decoded: { size: decoded[name].length, sha256: sha256(decoded[name]) },
        idx: { magic: name.includes('images') ? 0x803 : 0x801, dims: name.startsWith('train') ? (name.includes('images') ? [6, 28, 28] : [6]) : name.includes('images') ? [4, 28, 28] : [4] },
      }),
    ),
    splits: {
      train: [{ images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz', count: 6 }],
      test: [{ images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz', count: 4 }],
    },
  };
  return { files, decoded, entry, trainImages, trainLabels, testImages, testLabels };
}

export interface TinyCifar {
  records: Record<string, Buffer>;
  archive: Buffer;
  entry: CatalogDataset;
}

export const ARCHIVE = 'cifar-10-binary.tar.gz';

/** 2 train batches of 3 records, a 4-record test batch, its declared-partial 2-record prefix, and the archive. */
export async function tinyCifar(archiveUrls: string[] = []): Promise<TinyCifar> {
  const records: Record<string, Buffer> = {
    'data_batch_1.bin': cifarRecords([0, 9, 3], 11),
    'data_batch_2.bin': cifarRecords([5, 5, 1], 12),
    'test_batch.bin': cifarRecords([2, 7, 8, 0], 13),
  };
  records['test_batch.first2.bin'] = records['test_batch.bin'].subarray(0, 2 * 3073);
  const dir = await mkdtemp(join(tmpdir(), 'wc-tar-'));
  await mkdir(join(dir, 'cifar-10-batches-bin'));
  for (const n of ['data_batch_1.bin', 'data_batch_2.bin', 'test_batch.bin']) {
    await writeFile(join(dir, 'cifar-10-batches-bin', n), records[n]);
  }
  await writeFile(join(dir, 'cifar-10-batches-bin', 'batches.meta.txt'), 'airplane\nautomobile\n');
  await tarCreate({ gzip: true, file: join(dir, ARCHIVE), cwd: dir, portable: true }, ['cifar-10-batches-bin']);
  const { readFile } = await import('node:fs/promises');
  const archive = await readFile(join(dir, ARCHIVE));
  await rm(dir, { recursive: true, force: true });
  const member = (n: string) => `cifar-10-batches-bin/${n}`;
  const entry: CatalogDataset = {
    title: 'tiny cifar',
    format: 'cifar-bin',
    homepage: 'https://example.invalid/',
    license: 'test',
    citation: 'test',
    image: { height: 32, width: 32, channels: 3 },
    classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    archive: { name: ARCHIVE, size: archive.length, md5: md5(archive), sha256: sha256(archive), urls: archiveUrls },
    files: [
      { name: 'data_batch_1.bin', size: records['data_batch_1.bin'].length, sha256: sha256(records['data_batch_1.bin']), records: 3, member: member('data_batch_1.bin') },
      { name: 'data_batch_2.bin', size: records['data_batch_2.bin'].length, sha256: sha256(records['data_batch_2.bin']), records: 3, member: member('data_batch_2.bin') },
      { name: 'test_batch.bin', size: records['test_batch.bin'].length, sha256: sha256(records['test_batch.bin']), records: 4, member: member('test_batch.bin') },
      { name: 'test_batch.first2.bin', size: 2 * 3073, sha256: sha256(records['test_batch.first2.bin']), records: 2 },
    ],
    splits: {
      train: [{ records: ['data_batch_1.bin', 'data_batch_2.bin'], count: 6 }],
      test: [
        { records: ['test_batch.bin'], count: 4 },
        { records: ['test_batch.first2.bin'], count: 2, partial: { of: 4, note: 'first 2 of 4 test images' } },
      ],
    },
  };
  return { records, archive, entry };
}

export function catalogOf(datasets: Record<string, CatalogDataset>): Catalog {
  return { version: 1, datasets };
}

export async function tempDir(prefix = 'wc-fetch-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Write `files` into `<root>/<dataset>/`. */
export async function layout(root: string, dataset: string, files: Record<string, Uint8Array>): Promise<string> {
  const dir = join(root, dataset);
  await mkdir(dir, { recursive: true });
  for (const [n, b] of Object.entries(files)) await writeFile(join(dir, n), b);
  return dir;
}

/** All files (recursively, including dot files) under `dir`; [] when it does not exist. */
export async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1)).sort();
  } catch {
    return [];
  }
}

export interface ServedRequest {
  path: string;
  range?: string;
}

export interface ServeBehaviour {
  /** Honour Range requests (default true). */
  ranges?: boolean;
  /** For the first `times` full-or-ranged responses, send only this many body bytes, then destroy the socket. */
  dropAfter?: { bytes: number; times: number };
  /** Answer the first `times` requests with this status. */
  failFirst?: { status: number; times: number };
  /** For the first `times` responses, send this many body bytes and then stall (never finish). */
  hangAfter?: { bytes: number; times: number };
  /** Flip a byte of every response body (same length, wrong content). */
  corrupt?: boolean;
}

export interface TestServer {
  base: string;
  requests: ServedRequest[];
  close(): Promise<void>;
}

/** A static file server on 127.0.0.1 (loopback only). Unknown paths give 404. */
export async function serve(files: Record<string, Uint8Array>, behaviour: ServeBehaviour = {}): Promise<TestServer> {
  const requests: ServedRequest[] = [];
  let drops = 0;
  let hangs = 0;
  let fails = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\//, '');
    const range = typeof req.headers.range === 'string' ? req.headers.range : undefined;
    requests.push({ path, range });
    if (behaviour.failFirst && fails < behaviour.failFirst.times) {
      fails++;
      res.writeHead(behaviour.failFirst.status).end('try again');
      return;
    }
    const body0 = files[path];
    if (!body0) {
      res.writeHead(404).end('not found');
      return;
    }
    let body = Buffer.from(body0);
    if (behaviour.corrupt) body[Math.floor(body.length / 2)] ^= 0xff;
    let start = 0;
    const m = range && behaviour.ranges !== false ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
    } else {
      res.writeHead(200, { 'Content-Length': body.length });
    }
    body = body.subarray(start);
    if (behaviour.dropAfter && drops < behaviour.dropAfter.times && body.length > behaviour.dropAfter.bytes) {
      drops++;
      res.write(body.subarray(0, behaviour.dropAfter.bytes), () => {
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    if (behaviour.hangAfter && hangs < behaviour.hangAfter.times) {
      hangs++;
      res.write(body.subarray(0, behaviour.hangAfter.bytes));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback URL nobody listens on (connection refused). */
export async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}/`;
}

export function collectLog(): { log: (m: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { log: (m) => lines.push(m), lines };
}

/** Await a promise expected to reject; returns the error. */
export async function rejects(p: Promise<unknown>): Promise<Error & { code?: string; expected?: unknown; actual?: unknown }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}
