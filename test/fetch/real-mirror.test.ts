// Reads the real dataset mirror (../shared/datasets relative to the repo root) when present.
// Expected values were computed independently with Python (gzip + struct / numpy), not with
// this code: label histograms, total pixel sums, per-channel sums and a few pixels.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { rm } from 'node:fs/promises';
import { fetchDataset, type FetchResult } from '../../stages/fetch/index.ts';
import { REPO_ROOT } from '../../stages/fetch/paths.ts';
import { listFiles, tempDir } from './helpers.ts';

const MIRROR = resolve(REPO_ROOT, '../shared/datasets');

interface Expect {
  count: number;
  histogram: number[];
  pixelSum: number;
  firstImagePixelSum?: number;
  channelSums?: number[];
  partial: boolean;
}

const EXPECTED: Record<string, { shape: [number, number, number]; train: Expect; test: Expect }> = {
  mnist: {
    shape: [28, 28, 1],
    train: { count: 60000, histogram: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949], pixelSum: 1567298545, firstImagePixelSum: 27525, partial: false },
    test: { count: 10000, histogram: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009], pixelSum: 264923200, firstImagePixelSum: 18454, partial: false },
  },
  'fashion-mnist': {
    shape: [28, 28, 1],
    train: { count: 60000, histogram: new Array(10).fill(6000), pixelSum: 3431114169, firstImagePixelSum: 76247, partial: false },
    test: { count: 10000, histogram: new Array(10).fill(1000), pixelSum: 573469082, firstImagePixelSum: 33456, partial: false },
  },
  'cifar-10': {
    shape: [32, 32, 3],
    train: { count: 50000, histogram: new Array(10).fill(5000), pixelSum: 18540682003, channelSums: [6415714204, 6295060180, 5829907619], partial: false },
    test: { count: 1000, histogram: [103, 89, 100, 103, 90, 86, 112, 102, 106, 109], pixelSum: 374560331, channelSums: [129709978, 127077761, 117772592], partial: true },
  },
};

/** (n, y, x) -> [R, G, B] from numpy on the planar records. */
const CIFAR_PIXELS: Record<string, [number, number, number, [number, number, number]][]> = {
  train: [
    [0, 0, 0, [59, 62, 63]],
    [0, 5, 7, [119, 77, 37]],
    [49999, 31, 31, [163, 163, 161]],
  ],
  test: [
    [0, 0, 0, [158, 112, 49]],
    [0, 5, 7, [167, 115, 41]],
    [999, 31, 31, [93, 110, 131]],
  ],
};

describe('fetch: the real mirror (../shared/datasets)', function () {
  this.timeout(120000);
  const results: Record<string, FetchResult> = {};
  let dataDir = '';

  before(async function () {
    if (!existsSync(MIRROR)) {
      console.log(`    (skipped: no dataset mirror at ${MIRROR})`);
      this.skip();
    }
    dataDir = await tempDir('wc-real-');
    for (const name of Object.keys(EXPECTED)) {
      results[name] = await fetchDataset(name, { dataDir, mirrorDir: MIRROR, debianDir: null, offline: true, log: () => {} });
    }
  });
  after(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  for (const [name, exp] of Object.entries(EXPECTED)) {
    for (const split of ['train', 'test'] as const) {
      it(`${name} ${split}: count, shape, label histogram, pixel sums`, () => {
        const r = results[name];
        const s = r.splits[split];
        const e = exp[split];
        assert.equal(s.count, e.count);
        assert.deepEqual(s.shape, [e.count, ...exp.shape]);
        assert.equal(s.images.length, e.count * exp.shape[0] * exp.shape[1] * exp.shape[2]);
        assert.equal(s.labels.length, e.count);
        const hist = new Array(10).fill(0);
        for (const l of s.labels) hist[l]++;
        assert.deepEqual(hist, e.histogram);
        assert.deepEqual(r.meta.splits[split].label_histogram, e.histogram);
        let sum = 0;
        for (let i = 0; i < s.images.length; i++) sum += s.images[i];
        assert.equal(sum, e.pixelSum);
        if (e.firstImagePixelSum !== undefined) {
          let first = 0;
          for (let i = 0; i < 784; i++) first += s.images[i];
          assert.equal(first, e.firstImagePixelSum);
        }
        if (e.channelSums) {
          const cs = [0, 0, 0];
          for (let i = 0; i < s.images.length; i++) cs[i % 3] += s.images[i];
          assert.deepEqual(cs, e.channelSums, 'per-channel sums (HWC interleaved RGB)');
          for (const [n, y, x, rgb] of CIFAR_PIXELS[split]) {
            const o = ((n * 32 + y) * 32 + x) * 3;
            assert.deepEqual([s.images[o], s.images[o + 1], s.images[o + 2]], rgb, `pixel ${n},${y},${x}`);
          }
        }
        assert.equal(r.meta.splits[split].partial, e.partial);
        assert.ok(r.meta.provenance.files.filter((f) => f.split === split).every((f) => f.source === 'mirror' && f.location.startsWith(join(MIRROR, name))));
      });
    }
  }

  it('cifar-10: the test split is the declared partial one', () => {
    const m = results['cifar-10'].meta;
    assert.equal(m.splits.test.canonical_count, 10000);
    assert.deepEqual(m.splits.test.files, ['test_batch.first1000.bin']);
  });

  it('reads the mirror in place: nothing is copied into the data folder', async () => {
    assert.deepEqual(await listFiles(dataDir), []);
  });
});
