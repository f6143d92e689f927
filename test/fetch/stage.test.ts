import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { rm } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Json, TaskContext } from '../../pipeline/engine/types.ts';
import { fetchStage, datasetMetaSchema } from '../../stages/fetch/index.ts';
import { REPO_ROOT } from '../../stages/fetch/paths.ts';
import { tempDir } from './helpers.ts';

describe('fetch: stage declaration', () => {
  it('declares name, module, matrix over `datasets`, and the outputs', async () => {
    assert.equal(fetchStage.name, 'fetch');
    assert.equal(fetchStage.module, new URL('../../stages/fetch/index.ts', import.meta.url).href);
    assert.deepEqual(fetchStage.matrix, { dataset: { key: 'datasets' } });
    assert.deepEqual(fetchStage.params, []);
    assert.deepEqual(Object.keys(fetchStage.outputs).sort(), ['meta', 'test_images', 'test_labels', 'train_images', 'train_labels']);
    assert.equal(fetchStage.outputs.meta.kind, 'json');
    assert.equal(fetchStage.outputs.train_images.kind, 'bytes');
    const rt = await fetchStage.runtime!();
    assert.match(String(rt.catalog_sha256), /^[0-9a-f]{64}$/);
    new Ajv({ allErrors: true }).compile(datasetMetaSchema);
    new Ajv2020({ allErrors: true }).compile(datasetMetaSchema);
  });

  it('run(ctx) writes images, labels and a schema-valid meta (real mirror, mnist)', async function () {
    this.timeout(60000);
    const mirror = resolve(REPO_ROOT, '../shared/datasets');
    if (!existsSync(mirror)) {
      console.log(`    (skipped: no dataset mirror at ${mirror})`);
      this.skip();
    }
    const dataDir = await tempDir('wc-stage-');
    const saved = { m: process.env.WEAKCORR_DATA_MIRROR, d: process.env.WEAKCORR_DATA_DIR, o: process.env.WEAKCORR_OFFLINE };
    process.env.WEAKCORR_DATA_MIRROR = mirror;
    process.env.WEAKCORR_DATA_DIR = dataDir;
    process.env.WEAKCORR_OFFLINE = '1';
    const bytes: Record<string, Uint8Array> = {};
    const json: Record<string, unknown> = {};
    const logs: string[] = [];
    const ctx: TaskContext = {
      id: 'fetch/mnist',
      stage: 'fetch',
      experiment: 'test',
      baseExperiment: 'test',
      overrides: {},
      lineage: [],
      axes: { dataset: 'mnist' },
      params: {},
      inputs: {},
      readJson: async () => {
        throw new Error('no inputs');
      },
      readBytes: async () => {
        throw new Error('no inputs');
      },
      writeJson: async (n, v) => {
        assert.ok(!(n in json), `${n} written twice`);
        json[n] = v;
      },
      writeBytes: async (n, b) => {
        assert.ok(!(n in bytes), `${n} written twice`);
        bytes[n] = b;
      },
      progress: () => {},
      log: (m) => logs.push(m),
      tmpDir: dataDir,
      signal: new AbortController().signal,
    };
    try {
      await fetchStage.run(ctx);
    } finally {
      for (const [k, v] of [
        ['WEAKCORR_DATA_MIRROR', saved.m],
        ['WEAKCORR_DATA_DIR', saved.d],
        ['WEAKCORR_OFFLINE', saved.o],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await rm(dataDir, { recursive: true, force: true });
    }
    assert.equal(bytes.train_images.length, 60000 * 784);
    assert.equal(bytes.train_labels.length, 60000);
    assert.equal(bytes.test_images.length, 10000 * 784);
    assert.equal(bytes.test_labels.length, 10000);
    const validate = new Ajv({ allErrors: true }).compile(datasetMetaSchema);
    assert.ok(validate(json.meta), JSON.stringify(validate.errors));
    assert.ok(logs.some((l) => /from mirror .*: ok/.test(l)));
  });
});
