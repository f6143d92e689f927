import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { rm, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { fetchDataset, datasetMetaSchema, type FetchOptions } from '../../stages/fetch/index.ts';
import { REPO_ROOT } from '../../stages/fetch/paths.ts';
import {
  catalogOf,
  collectLog,
  deadUrl,
  fileEntry,
  idxBytes,
  gz,
  layout,
  listFiles,
  regz,
  rejects,
  serve,
  sha256,
  tempDir,
  tinyCifar,
  tinyIdx,
} from './helpers.ts';

const IMG = 'train-images-idx3-ubyte.gz';
const LAB = 'train-labels-idx1-ubyte.gz';

/** Index of the first log line matching `re` (asserting there is one). */
function at(lines: string[], re: RegExp): number {
  const i = lines.findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no log line matches ${re}:\n${lines.join('\n')}`);
  return i;
}

describe('fetch: sources and errors', function () {
  let root: string;
  let dataDir: string;
  let mirror: string;
  let debian: string;
  let dead: string;

  beforeEach(async () => {
    root = await tempDir();
    dataDir = join(root, 'cache');
    mirror = join(root, 'mirror');
    debian = join(root, 'debian');
    dead = await deadUrl();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const base = (o: FetchOptions): FetchOptions => ({ dataDir, mirrorDir: null, debianDir: null, offline: false, onProgress: () => {}, download: { retries: 0, retryDelayMs: 1 }, ...o });

  it('tries cache, mirror, Debian folder, then URLs, in that order, and logs each', async () => {
    const t = tinyIdx();
    const server = await serve(t.files);
    try {
      const entry = { ...t.entry, urls: [dead, server.base], debianDir: '/nonexistent' };
      const catalog = catalogOf({ tiny: entry });
      const opts = (o: FetchOptions) => base({ catalog, mirrorDir: mirror, debianDir: debian, ...o });
      const debFiles = Object.fromEntries(Object.entries(t.decoded).map(([k, v]) => [k, regz(v)]));

      // 1. only the URL has the files
      let L = collectLog();
      let r = await fetchDataset('tiny', opts({ log: L.log }));
      assert.deepEqual([...new Set(r.meta.provenance.files.map((f) => f.source))], ['url']);
      assert.equal(r.meta.provenance.files[0].location, server.base + IMG);
      const c = at(L.lines, new RegExp(`${IMG} from cache`));
      const m = at(L.lines, new RegExp(`${IMG} from mirror`));
      const d = at(L.lines, new RegExp(`${IMG} from debian`));
      const u1 = at(L.lines, new RegExp(`${IMG} from url ${dead}`));
      const u2 = at(L.lines, new RegExp(`${IMG} from url ${server.base}: ok`));
      assert.ok(c < m && m < d && d < u1 && u1 < u2, L.lines.join('\n'));
      assert.match(L.lines[m], /missing mirror file/);
      assert.match(L.lines[u1], /unreachable/);
      // downloads land in the cache, verified
      assert.deepEqual(await listFiles(join(dataDir, 'tiny')), Object.keys(t.files).sort());

      // 2. the cache now wins (re-verified by checksum), no request reaches the server
      const before = server.requests.length;
      L = collectLog();
      r = await fetchDataset('tiny', opts({ log: L.log }));
      assert.deepEqual([...new Set(r.meta.provenance.files.map((f) => f.source))], ['cache']);
      assert.deepEqual(r.meta.provenance.files[0].verified, ['size', 'sha256', 'md5']);
      assert.equal(server.requests.length, before);
      assert.equal(L.lines.filter((l) => / from (mirror|debian|url)/.test(l)).length, 0);

      // 3. empty cache, Debian copy and mirror present: mirror first
      await rm(dataDir, { recursive: true });
      await layout(mirror, 'tiny', t.files);
      await layout(debian, '.', debFiles);
      r = await fetchDataset('tiny', opts({ log: () => {} }));
      assert.deepEqual([...new Set(r.meta.provenance.files.map((f) => f.source))], ['mirror']);
      assert.equal(r.meta.provenance.files[0].location, join(mirror, 'tiny', IMG));
      assert.deepEqual(await listFiles(dataDir), [], 'mirror files are read in place, not copied');

      // 4. no mirror: the Debian copy (other gzip bytes, same pixels) is verified by its decoded content
      await rm(mirror, { recursive: true });
      L = collectLog();
      r = await fetchDataset('tiny', opts({ log: L.log }));
      const deb = r.meta.provenance.files.find((f) => f.name === IMG)!;
      assert.equal(deb.source, 'debian');
      assert.notEqual(deb.sha256, entry.files[0].sha256, 'Debian gzip bytes differ');
      assert.deepEqual(deb.verified, ['decoded.size', 'decoded.sha256']);
      assert.equal(deb.decoded?.sha256, sha256(t.decoded[IMG]));
      assert.deepEqual(Buffer.from(r.splits.train.images), Buffer.from(t.trainImages));
      assert.ok(at(L.lines, /from mirror/) < at(L.lines, /from debian .*: ok/));
    } finally {
      await server.close();
    }
  });

  it('decodes images and labels with shapes, histogram and checksums in meta', async () => {
    const t = tinyIdx();
    await layout(mirror, 'tiny', t.files);
    const r = await fetchDataset('tiny', base({ catalog: catalogOf({ tiny: t.entry }), mirrorDir: mirror, log: () => {} }));
    assert.deepEqual(r.splits.train.shape, [6, 28, 28, 1]);
    assert.deepEqual(r.splits.test.shape, [4, 28, 28, 1]);
    assert.deepEqual(Buffer.from(r.splits.test.images), Buffer.from(t.testImages));
    assert.deepEqual(Buffer.from(r.splits.test.labels), Buffer.from(t.testLabels));
    const hist = new Array(10).fill(0);
    for (const l of t.trainLabels) hist[l]++;
    assert.deepEqual(r.meta.splits.train.label_histogram, hist);
    assert.equal(r.meta.splits.train.images_sha256, sha256(t.trainImages));
    assert.equal(r.meta.splits.train.partial, false);
    assert.equal(r.meta.layout, 'NHWC');
    for (const A of [Ajv, Ajv2020]) {
      const validate = new A({ allErrors: true }).compile(datasetMetaSchema);
      assert.ok(validate(r.meta), JSON.stringify(validate.errors));
    }
  });

  it('reads the mirror and data folder from the environment (relative paths from the repo root)', async () => {
    const t = tinyIdx();
    await layout(mirror, 'tiny', t.files);
    const r = await fetchDataset('tiny', {
      catalog: catalogOf({ tiny: t.entry }),
      env: { WEAKCORR_DATA_MIRROR: relative(REPO_ROOT, mirror), WEAKCORR_DATA_DIR: dataDir, WEAKCORR_OFFLINE: '1' },
      log: () => {},
    });
    assert.equal(r.meta.provenance.files[0].source, 'mirror');
    assert.equal(r.meta.provenance.files[0].location, join(mirror, 'tiny', IMG));
  });

  it('re-verifies cached files: a corrupt cached copy is removed and the next source used', async () => {
    const t = tinyIdx();
    const bad = Buffer.from(t.files[IMG]);
    bad[100] ^= 1;
    await layout(dataDir, 'tiny', { ...t.files, [IMG]: bad });
    await layout(mirror, 'tiny', t.files);
    const L = collectLog();
    const r = await fetchDataset('tiny', base({ catalog: catalogOf({ tiny: t.entry }), mirrorDir: mirror, log: L.log }));
    const img = r.meta.provenance.files.find((f) => f.name === IMG)!;
    assert.equal(img.source, 'mirror');
    assert.equal(r.meta.provenance.files.find((f) => f.name === LAB)!.source, 'cache');
    assert.match(L.lines[at(L.lines, /from cache.*checksum mismatch/)], new RegExp(`expected sha256 ${t.entry.files[0].sha256}, got sha256 ${sha256(bad)}; removed`));
    assert.ok(!existsSync(join(dataDir, 'tiny', IMG)), 'bad cached file removed');
  });

  it('checksum mismatch in the mirror: clear error with file, expected and actual; nothing cached', async () => {
    const t = tinyIdx();
    const bad = Buffer.from(t.files[LAB]);
    bad[bad.length - 12] ^= 0x55;
    await layout(mirror, 'tiny', { ...t.files, [LAB]: bad });
    const e = await rejects(fetchDataset('tiny', base({ catalog: catalogOf({ tiny: { ...t.entry, urls: [] } }), mirrorDir: mirror, log: () => {} })));
    assert.equal(e.code, 'NO_SOURCE');
    assert.match(e.message, new RegExp(`${join(mirror, 'tiny', LAB)}: checksum mismatch: expected sha256 ${sha256(t.files[LAB])}, got sha256 ${sha256(bad)}`));
    assert.deepEqual(await listFiles(dataDir), []);
  });

  it('size mismatch (truncated file in the mirror) names expected and actual sizes', async () => {
    const t = tinyIdx();
    const cut = t.files[IMG].subarray(0, 500);
    await layout(mirror, 'tiny', { ...t.files, [IMG]: cut });
    const e = await rejects(fetchDataset('tiny', base({ catalog: catalogOf({ tiny: { ...t.entry, urls: [] } }), mirrorDir: mirror, log: () => {} })));
    assert.match(e.message, new RegExp(`${IMG}: size mismatch: expected ${t.files[IMG].length} B, got 500 B \\(file is truncated\\)`));
    assert.deepEqual(await listFiles(dataDir), []);
  });

  it('truncated gzip (Debian copy): clear error naming the file; nothing cached', async () => {
    const t = tinyIdx();
    const deb = Object.fromEntries(Object.entries(t.decoded).map(([k, v]) => [k, regz(v)]));
    deb[IMG] = deb[IMG].subarray(0, deb[IMG].length - 100);
    await layout(debian, '.', deb);
    const e = await rejects(
      fetchDataset('tiny', base({ catalog: catalogOf({ tiny: { ...t.entry, urls: [], debianDir: '/x' } }), debianDir: debian, log: () => {} })),
    );
    assert.equal(e.code, 'NO_SOURCE');
    assert.match(e.message, new RegExp(`${join(debian, IMG)}: truncated gzip`));
    assert.deepEqual(await listFiles(dataDir), []);
  });

  it('truncated gzip whose checksums the catalog records: TRUNCATED_GZIP, nothing left in the cache', async () => {
    // A catalog entry describing truncated bytes: checksums pass, decoding fails.
    const t = tinyIdx();
    const cut = t.files[IMG].subarray(0, t.files[IMG].length - 30);
    const server = await serve({ ...t.files, [IMG]: cut });
    try {
      const files = t.entry.files.map((f) => (f.name === IMG ? { ...fileEntry(IMG, cut), decoded: f.decoded, idx: f.idx } : f));
      const e = await rejects(fetchDataset('tiny', base({ catalog: catalogOf({ tiny: { ...t.entry, files, urls: [server.base] } }), log: () => {} })));
      assert.equal(e.code, 'TRUNCATED_GZIP');
      assert.match(e.message, new RegExp(`${IMG}: truncated gzip: expected a complete gzip stream .*got ${cut.length} B`));
      assert.ok(!(await listFiles(join(dataDir, 'tiny'))).includes(IMG), 'truncated download removed from the cache');
      assert.ok(!(await listFiles(dataDir)).some((f) => f.endsWith('.part')));
    } finally {
      await server.close();
    }
  });

  it('wrong idx magic: BAD_MAGIC naming the file, expected and actual; the cached download is removed', async () => {
    const t = tinyIdx();
    const wrong = gz(idxBytes(0x802, [6, 28, 28], t.trainImages)); // not 0x803
    const server = await serve({ ...t.files, [IMG]: wrong });
    try {
      const files = t.entry.files.map((f) => (f.name === IMG ? { ...fileEntry(IMG, wrong), idx: f.idx } : f));
      const e = await rejects(fetchDataset('tiny', base({ catalog: catalogOf({ tiny: { ...t.entry, files, urls: [server.base] } }), log: () => {} })));
      assert.equal(e.code, 'BAD_MAGIC');
      assert.match(e.message, new RegExp(`${IMG}: bad idx magic number: expected 0x00000803, got 0x00000802`));
      assert.ok(!(await listFiles(join(dataDir, 'tiny'))).includes(IMG));
    } finally {
      await server.close();
    }
  });

  it('missing mirror file: the error names it, lists every source and how to set the mirror variable', async () => {
    const t = tinyIdx();
    const { [LAB]: _omitted, ...partialFiles } = t.files;
    await layout(mirror, 'tiny', partialFiles);
    const e = await rejects(fetchDataset('tiny', base({ catalog: catalogOf({ tiny: { ...t.entry, urls: [dead] } }), mirrorDir: mirror, log: () => {} })));
    assert.equal(e.code, 'NO_SOURCE');
    assert.match(e.message, new RegExp(`missing mirror file: ${join(mirror, 'tiny', LAB)}`));
    assert.match(e.message, new RegExp(`Sources tried, in order: cache ${join(dataDir, 'tiny')} -> mirror ${join(mirror, 'tiny')} -> url ${dead}`));
    assert.match(e.message, /set WEAKCORR_DATA_MIRROR/);
    assert.deepEqual(await listFiles(dataDir), []);
  });

  it('no source reachable: lists every source tried and the mirror variable, fast', async () => {
    const t = tinyIdx();
    const dead2 = await deadUrl();
    const t0 = Date.now();
    const e = await rejects(
      fetchDataset('tiny', base({ catalog: catalogOf({ tiny: { ...t.entry, urls: [dead, dead2], debianDir: '/x' } }), debianDir: debian, log: () => {} })),
    );
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(e.code, 'NO_SOURCE');
    assert.match(e.message, /no source could provide split 'train'/);
    for (const s of [`cache ${join(dataDir, 'tiny')}`, 'mirror (WEAKCORR_DATA_MIRROR not set)', `debian ${debian}`, `url ${dead}`, `url ${dead2}`]) {
      assert.ok(e.message.includes(s), `message lists ${s}:\n${e.message}`);
    }
    assert.match(e.message, /WEAKCORR_DATA_MIRROR is not set/);
    assert.match(e.message, new RegExp(`missing Debian file: ${join(debian, IMG)}`));
    assert.match(e.message, /unreachable: .*ECONNREFUSED/);
    assert.match(e.message, /set WEAKCORR_DATA_MIRROR to a folder laid out as <dataset>\/<file>/);
    assert.deepEqual(await listFiles(dataDir), []);
    assert.ok(!existsSync(join(dataDir, 'tiny')), 'no empty cache folder left behind');
  });

  it('offline mode skips URL sources', async () => {
    const t = tinyIdx();
    const server = await serve(t.files);
    try {
      const e = await rejects(fetchDataset('tiny', base({ catalog: catalogOf({ tiny: { ...t.entry, urls: [server.base] } }), offline: true, log: () => {} })));
      assert.match(e.message, /offline mode/);
      assert.equal(server.requests.length, 0);
    } finally {
      await server.close();
    }
  });

  it('refuses a data folder inside the mirror (the mirror is never written)', async () => {
    const t = tinyIdx();
    await layout(mirror, 'tiny', t.files);
    const e = await rejects(fetchDataset('tiny', base({ catalog: catalogOf({ tiny: t.entry }), mirrorDir: mirror, dataDir: join(mirror, 'cache') })));
    assert.match(e.message, /lies inside the mirror/);
  });

  it('unknown dataset names the known ones', async () => {
    const e = await rejects(fetchDataset('mnsit', base({ log: () => {} })));
    assert.equal(e.code, 'UNKNOWN_DATASET');
    assert.match(e.message, /unknown dataset 'mnsit': the catalog knows 'mnist', 'fashion-mnist', 'cifar-10'/);
  });
});

describe('fetch: CIFAR-10 layout, archive and declared partial split', function () {
  let root: string;
  let dataDir: string;
  let mirror: string;
  beforeEach(async () => {
    root = await tempDir();
    dataDir = join(root, 'cache');
    mirror = join(root, 'mirror');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const base = (o: FetchOptions): FetchOptions => ({ dataDir, mirrorDir: mirror, debianDir: null, offline: true, log: () => {}, onProgress: () => {}, ...o });

  it('uses extracted records from the mirror; the declared partial test split is marked partial', async () => {
    const c = await tinyCifar();
    await layout(mirror, 'tiny-cifar', {
      'data_batch_1.bin': c.records['data_batch_1.bin'],
      'data_batch_2.bin': c.records['data_batch_2.bin'],
      'test_batch.first2.bin': c.records['test_batch.first2.bin'],
    });
    const L = collectLog();
    const r = await fetchDataset('tiny-cifar', base({ catalog: catalogOf({ 'tiny-cifar': c.entry }), log: L.log }));
    assert.deepEqual(r.splits.train.shape, [6, 32, 32, 3]);
    assert.deepEqual([...r.splits.train.labels], [0, 9, 3, 5, 5, 1]);
    assert.deepEqual(r.splits.test.shape, [2, 32, 32, 3]);
    assert.deepEqual(r.meta.splits.test.partial, true);
    assert.equal(r.meta.splits.test.count, 2);
    assert.equal(r.meta.splits.test.canonical_count, 4);
    assert.equal(r.meta.splits.train.partial, false);
    assert.match(r.meta.pixel_layout, /NHWC interleaved RGB/);
    assert.ok(L.lines.some((l) => /split 'test' is partial: 2 of 4 images/.test(l)));
    // Interleaving: test image 1, pixel (y=3, x=4), channel G
    const rec = c.records['test_batch.bin'];
    assert.equal(r.splits.test.images[((1 * 32 + 3) * 32 + 4) * 3 + 1], rec[3073 + 1 + 1024 + 3 * 32 + 4]);

    // Partial variants can be refused.
    const e2 = await rejects(fetchDataset('tiny-cifar', base({ catalog: catalogOf({ 'tiny-cifar': c.entry }), allowPartial: false })));
    assert.equal(e2.code, 'NO_SOURCE');
    assert.match(e2.message, /split 'test'.*declared partial variants skipped/);
  });

  it('extracts the archive from the mirror into the cache (verified), leaving no temp files', async () => {
    const c = await tinyCifar();
    await layout(mirror, 'tiny-cifar', { 'cifar-10-binary.tar.gz': c.archive });
    const r = await fetchDataset('tiny-cifar', base({ catalog: catalogOf({ 'tiny-cifar': c.entry }) }));
    assert.equal(r.meta.splits.test.partial, false);
    assert.equal(r.splits.test.count, 4);
    const p = r.meta.provenance.files.find((f) => f.name === 'test_batch.bin')!;
    assert.equal(p.source, 'mirror');
    assert.equal(p.location, join(mirror, 'tiny-cifar', 'cifar-10-binary.tar.gz'));
    assert.equal(p.archive?.member, 'cifar-10-batches-bin/test_batch.bin');
    assert.equal(p.archive?.md5, c.entry.archive!.md5);
    assert.deepEqual(await listFiles(join(dataDir, 'tiny-cifar')), ['data_batch_1.bin', 'data_batch_2.bin', 'test_batch.bin']);
    // Next time the cache serves them.
    const r2 = await fetchDataset('tiny-cifar', base({ catalog: catalogOf({ 'tiny-cifar': c.entry }), mirrorDir: null }));
    assert.deepEqual([...new Set(r2.meta.provenance.files.map((f) => f.source))], ['cache']);
    assert.deepEqual(Buffer.from(r2.splits.train.images), Buffer.from(r.splits.train.images));
  });

  it('archive with a checksum mismatch: error names it; nothing extracted', async () => {
    const c = await tinyCifar();
    const bad = Buffer.from(c.archive);
    bad[bad.length - 20] ^= 1;
    await layout(mirror, 'tiny-cifar', { 'cifar-10-binary.tar.gz': bad });
    const e = await rejects(fetchDataset('tiny-cifar', base({ catalog: catalogOf({ 'tiny-cifar': c.entry }) })));
    assert.match(e.message, new RegExp(`cifar-10-binary.tar.gz: checksum mismatch: expected sha256 ${c.entry.archive!.sha256}, got sha256 ${sha256(bad)}`));
    assert.deepEqual(await listFiles(dataDir), []);
  });

  it('bad record length in a mirror record file (catalog checksums match): BAD_RECORD_LENGTH', async () => {
    const c = await tinyCifar();
    const odd = Buffer.concat([c.records['data_batch_1.bin'], Buffer.alloc(5)]);
    const entry = {
      ...c.entry,
      files: c.entry.files.map((f) => (f.name === 'data_batch_1.bin' ? { ...f, size: odd.length, sha256: sha256(odd) } : f)),
    };
    await layout(mirror, 'tiny-cifar', { ...c.records, 'data_batch_1.bin': odd });
    const e = await rejects(fetchDataset('tiny-cifar', base({ catalog: catalogOf({ 'tiny-cifar': entry }) })));
    assert.equal(e.code, 'BAD_RECORD_LENGTH');
    assert.match(e.message, new RegExp(`${join(mirror, 'tiny-cifar', 'data_batch_1.bin')}: bad CIFAR-10 record length: expected records of 3073 B.*got ${odd.length} B total`));
    assert.deepEqual(await listFiles(dataDir), []);
  });
});

describe('fetch: the catalog (data/datasets.json)', () => {
  it('loads, validates, and agrees with the mirror README and SHA256SUMS', async () => {
    const { loadCatalog } = await import('../../stages/fetch/catalog.ts');
    const cat = loadCatalog();
    assert.deepEqual(Object.keys(cat.datasets), ['mnist', 'fashion-mnist', 'cifar-10']);
    const md5s: Record<string, string> = {
      'mnist/train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
      'mnist/train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
      'mnist/t10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
      'mnist/t10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
      'fashion-mnist/train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      'fashion-mnist/train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
      'fashion-mnist/t10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
      'fashion-mnist/t10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
    };
    for (const [k, v] of Object.entries(md5s)) {
      const [ds, name] = k.split('/');
      assert.equal(cat.datasets[ds].files.find((f) => f.name === name)?.md5, v, k);
    }
    assert.equal(cat.datasets['cifar-10'].archive?.md5, 'c32a1d4ab5d03f1284b67883e8d87530');
    assert.equal(cat.datasets['cifar-10'].archive?.size, 170052171);
    const sums = join(REPO_ROOT, '../shared/datasets/SHA256SUMS');
    if (!existsSync(sums)) return;
    for (const line of (await readFile(sums, 'utf8')).trim().split('\n')) {
      const [hash, path] = line.split(/\s+/);
      const [ds, name] = path.split('/');
      assert.equal(cat.datasets[ds].files.find((f) => f.name === name)?.sha256, hash, path);
    }
  });

  it('rejects an invalid catalog with a clear message', async () => {
    const { validateCatalog } = await import('../../stages/fetch/catalog.ts');
    const t = tinyIdx();
    assert.throws(() => validateCatalog({ version: 1, datasets: { x: { ...t.entry, format: 'png' } } }, 'cat.json'), /cat\.json: invalid dataset catalog: .*format/);
    const broken = { ...t.entry, splits: { train: [{ images: 'nope.gz', labels: 'train-labels-idx1-ubyte.gz', count: 6 }] } };
    assert.throws(() => validateCatalog({ version: 1, datasets: { x: broken } }, 'cat.json'), /split 'train' names unknown file 'nope\.gz'/);
  });
});

