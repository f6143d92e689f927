import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rm, readFile } from 'node:fs/promises';
import { downloadFile } from '../../stages/fetch/download.ts';
import { fetchDataset, type FetchOptions } from '../../stages/fetch/index.ts';
import { catalogOf, collectLog, deadUrl, listFiles, makeImages, rejects, serve, sha256, md5, tempDir, tinyCifar, tinyIdx } from './helpers.ts';

describe('fetch: downloads (loopback HTTP server)', function () {
  let dir: string;
  const payload = Buffer.from(makeImages(100, 28, 28, 42)); // 78400 B
  const spec = { size: payload.length, sha256: sha256(payload), md5: md5(payload) };
  const fast = { retries: 3, retryDelayMs: 5 };

  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams to a temp file with progress, verifies, renames into place', async () => {
    const server = await serve({ 'f.bin': payload });
    try {
      const progress: [number, number][] = [];
      const d = await downloadFile(server.base + 'f.bin', join(dir, 'f.bin'), spec, { ...fast, onProgress: (a, b) => progress.push([a, b]) });
      assert.equal(d.sha256, spec.sha256);
      assert.deepEqual(await readFile(join(dir, 'f.bin')), payload);
      assert.deepEqual(progress.at(-1), [payload.length, payload.length]);
      assert.ok(progress.length >= 2);
      assert.deepEqual(await listFiles(dir), ['f.bin']);
    } finally {
      await server.close();
    }
  });

  it('resumes with a Range request after the connection drops midway', async () => {
    const server = await serve({ 'f.bin': payload }, { dropAfter: { bytes: 30000, times: 2 } });
    try {
      const L = collectLog();
      await downloadFile(server.base + 'f.bin', join(dir, 'f.bin'), spec, { ...fast, log: L.log });
      assert.deepEqual(await readFile(join(dir, 'f.bin')), payload);
      assert.equal(server.requests.length, 3);
      assert.equal(server.requests[0].range, undefined);
      assert.match(server.requests[1].range ?? '', /^bytes=\d+-$/);
      assert.ok(Number(/\d+/.exec(server.requests[1].range!)![0]) > 0);
      assert.match(L.lines.join('\n'), /transient error .*retry 1\/3.*resuming at \d+ B/);
      assert.deepEqual(await listFiles(dir), ['f.bin']);
    } finally {
      await server.close();
    }
  });

  it('restarts from zero when the server ignores Range', async () => {
    const server = await serve({ 'f.bin': payload }, { dropAfter: { bytes: 30000, times: 1 }, ranges: false });
    try {
      const L = collectLog();
      await downloadFile(server.base + 'f.bin', join(dir, 'f.bin'), spec, { ...fast, log: L.log });
      assert.deepEqual(await readFile(join(dir, 'f.bin')), payload);
      assert.match(L.lines.join('\n'), /ignored the Range request; restarting from 0/);
    } finally {
      await server.close();
    }
  });

  it('a stalled transfer times out and resumes', async () => {
    const server = await serve({ 'f.bin': payload }, { hangAfter: { bytes: 20000, times: 1 } });
    try {
      const L = collectLog();
      await downloadFile(server.base + 'f.bin', join(dir, 'f.bin'), spec, { ...fast, stallTimeoutMs: 150, log: L.log });
      assert.deepEqual(await readFile(join(dir, 'f.bin')), payload);
      assert.equal(server.requests[1].range, 'bytes=20000-');
      assert.match(L.lines.join('\n'), /no data for 150 ms/);
    } finally {
      await server.close();
    }
  });

  it('an aborted download stops and leaves nothing behind', async () => {
    const server = await serve({ 'f.bin': payload }, { hangAfter: { bytes: 20000, times: 10 } });
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const e = await rejects(downloadFile(server.base + 'f.bin', join(dir, 'f.bin'), spec, { ...fast, signal: ac.signal }));
      assert.equal(e.code, 'ABORTED');
      assert.deepEqual(await listFiles(dir), []);
    } finally {
      await server.close();
    }
  });

  it('retries transient HTTP errors (503)', async () => {
    const server = await serve({ 'f.bin': payload }, { failFirst: { status: 503, times: 2 } });
    try {
      await downloadFile(server.base + 'f.bin', join(dir, 'f.bin'), spec, fast);
      assert.equal(server.requests.length, 3);
    } finally {
      await server.close();
    }
  });

  it('gives up after the retries and leaves nothing behind', async () => {
    const server = await serve({ 'f.bin': payload }, { dropAfter: { bytes: 1000, times: 100 }, ranges: false });
    try {
      const e = await rejects(downloadFile(server.base + 'f.bin', join(dir, 'f.bin'), spec, { retries: 2, retryDelayMs: 1 }));
      assert.equal(e.code, 'NETWORK_ERROR');
      assert.match(e.message, /gave up after 3 attempts/);
      assert.deepEqual(await listFiles(dir), []);
    } finally {
      await server.close();
    }
  });

  it('wrong bytes: checksum mismatch naming the URL, expected and actual; nothing left', async () => {
    const server = await serve({ 'f.bin': payload }, { corrupt: true });
    try {
      const bad = Buffer.from(payload);
      bad[Math.floor(bad.length / 2)] ^= 0xff;
      const e = await rejects(downloadFile(server.base + 'f.bin', join(dir, 'f.bin'), spec, fast));
      assert.equal(e.code, 'CHECKSUM_MISMATCH');
      assert.match(e.message, new RegExp(`f\\.bin \\(downloaded from ${server.base}f\\.bin\\): checksum mismatch: expected sha256 ${spec.sha256}, got sha256 ${sha256(bad)}`));
      assert.equal(e.expected, `sha256 ${spec.sha256}`);
      assert.deepEqual(await listFiles(dir), []);
    } finally {
      await server.close();
    }
  });

  it('HTTP 404 is not retried', async () => {
    const server = await serve({});
    try {
      const e = await rejects(downloadFile(server.base + 'f.bin', join(dir, 'f.bin'), spec, fast));
      assert.equal(e.code, 'HTTP_ERROR');
      assert.match(e.message, /expected 200 OK, got HTTP 404/);
      assert.equal(server.requests.length, 1);
      assert.deepEqual(await listFiles(dir), []);
    } finally {
      await server.close();
    }
  });

  it('fetchDataset falls back from a failing URL to the next one', async () => {
    const t = tinyIdx();
    const empty = await serve({});
    const good = await serve(t.files, { dropAfter: { bytes: 50, times: 1 } });
    const dead = await deadUrl();
    try {
      const L = collectLog();
      const opts: FetchOptions = { dataDir: dir, mirrorDir: null, debianDir: null, log: L.log, onProgress: () => {}, download: fast };
      const r = await fetchDataset('tiny', { ...opts, catalog: catalogOf({ tiny: { ...t.entry, urls: [dead, empty.base, good.base] } }) });
      assert.ok(r.meta.provenance.files.every((f) => f.source === 'url' && f.location.startsWith(good.base)));
      assert.match(L.lines.join('\n'), /from url http:\/\/127\.0\.0\.1:\d+\/: .*HTTP 404/);
      assert.deepEqual(await listFiles(join(dir, 'tiny')), Object.keys(t.files).sort());
    } finally {
      await empty.close();
      await good.close();
    }
  });

  it('fetchDataset downloads the CIFAR archive, extracts verified records into the cache, drops the archive', async () => {
    const c = await tinyCifar();
    const server = await serve({ 'cifar-10-binary.tar.gz': c.archive });
    try {
      const url = server.base + 'cifar-10-binary.tar.gz';
      const entry = { ...c.entry, archive: { ...c.entry.archive!, urls: [url] } };
      const progress: number[] = [];
      const r = await fetchDataset('tiny-cifar', {
        dataDir: dir,
        mirrorDir: null,
        log: () => {},
        onProgress: (d) => progress.push(d),
        download: fast,
        catalog: catalogOf({ 'tiny-cifar': entry }),
      });
      assert.equal(server.requests.length, 1, 'archive downloaded once');
      assert.equal(progress.at(-1), c.archive.length);
      assert.equal(r.splits.test.count, 4);
      assert.equal(r.meta.splits.test.partial, false);
      for (const f of r.meta.provenance.files) {
        assert.equal(f.source, 'url');
        assert.equal(f.location, url);
        assert.equal(f.archive?.sha256, c.entry.archive!.sha256);
      }
      assert.deepEqual(await listFiles(join(dir, 'tiny-cifar')), ['data_batch_1.bin', 'data_batch_2.bin', 'test_batch.bin']);
    } finally {
      await server.close();
    }
  });

  it('fetchDataset with a corrupt archive download: clear error, nothing in the cache', async () => {
    const c = await tinyCifar();
    const server = await serve({ 'cifar-10-binary.tar.gz': c.archive }, { corrupt: true });
    try {
      const url = server.base + 'cifar-10-binary.tar.gz';
      const entry = { ...c.entry, archive: { ...c.entry.archive!, urls: [url] } };
      const e = await rejects(fetchDataset('tiny-cifar', { dataDir: dir, mirrorDir: null, log: () => {}, onProgress: () => {}, download: fast, catalog: catalogOf({ 'tiny-cifar': entry }) }));
      assert.equal(e.code, 'NO_SOURCE');
      assert.match(e.message, new RegExp(`cifar-10-binary\\.tar\\.gz \\(downloaded from ${url}\\): checksum mismatch: expected sha256 ${c.entry.archive!.sha256}`));
      assert.deepEqual(await listFiles(dir), []);
    } finally {
      await server.close();
    }
  });
});
