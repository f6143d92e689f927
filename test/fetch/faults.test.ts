// Several faults in one dataset are found in one run, and an HTML page is called what it is.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { fetchDataset, type FetchOptions } from '../../stages/fetch/index.ts';
import { htmlPage } from '../../stages/fetch/verify.ts';
import { catalogOf, layout, listFiles, rejects, tempDir, tinyIdx } from './helpers.ts';

const IMG = 'train-images-idx3-ubyte.gz';
const LAB = 'train-labels-idx1-ubyte.gz';
const TIMG = 't10k-images-idx3-ubyte.gz';
const PAGE = Buffer.from('<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n');

describe('fetch: every fault of a dataset in one error', function () {
  let root: string;
  beforeEach(async () => {
    root = await tempDir();
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const base = (o: FetchOptions): FetchOptions => ({ dataDir: join(root, 'cache'), mirrorDir: null, debianDir: null, offline: true, onProgress: () => {}, log: () => {}, ...o });

  it('three bad mirror files (an HTML page, a flipped byte, a truncated file) in two splits: one error names all three', async () => {
    const t = tinyIdx();
    const flipped = Buffer.from(t.files[LAB]);
    flipped[flipped.length - 12] ^= 0x55;
    const mirror = join(root, 'mirror');
    await layout(mirror, 'tiny', { ...t.files, [IMG]: PAGE, [LAB]: flipped, [TIMG]: t.files[TIMG].subarray(0, 300) });
    const e = await rejects(fetchDataset('tiny', base({ catalog: catalogOf({ tiny: t.entry }), mirrorDir: mirror })));
    assert.equal(e.code, 'NO_SOURCE');
    assert.match(e.message, /no source could provide split 'train'/);
    assert.match(e.message, /no source could provide split 'test'/);
    assert.match(e.message, new RegExp(`${join(mirror, 'tiny', IMG)}: an HTML page titled "404 Not Found", not the dataset file`));
    assert.doesNotMatch(e.message, new RegExp(`${IMG}: size mismatch`));
    assert.match(e.message, new RegExp(`${join(mirror, 'tiny', LAB)}: checksum mismatch`));
    assert.match(e.message, new RegExp(`${join(mirror, 'tiny', TIMG)}: size mismatch: expected \\d+ B, got 300 B`));
    assert.equal(e.message.match(/Sources tried, in order/g)?.length, 1, 'the sources and the hint once, at the end');
    assert.deepEqual(await listFiles(join(root, 'cache')), []);
  });

  it('an HTML page in the cache is recognised (and removed as a bad cached copy)', async () => {
    const t = tinyIdx();
    const cache = join(root, 'cache');
    await layout(cache, 'tiny', { ...t.files, [LAB]: PAGE });
    const e = await rejects(fetchDataset('tiny', base({ catalog: catalogOf({ tiny: t.entry }) })));
    assert.match(e.message, new RegExp(`${join(cache, 'tiny', LAB)}: an HTML page titled "404 Not Found", not the dataset file.*removed the bad cached copy`));
  });

  it('htmlPage tells pages from binary data', () => {
    assert.equal(htmlPage(PAGE), 'an HTML page titled "404 Not Found"');
    assert.equal(htmlPage(Buffer.from('  <html>\n<body>moved</body></html>')), 'an HTML page');
    assert.equal(htmlPage(tinyIdx().files[IMG]), undefined);
    assert.equal(htmlPage(Buffer.from('<not html at all>')), undefined);
  });
});
