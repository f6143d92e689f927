// Stage 'fetch': one task per dataset in the experiment's `datasets` list. Resolves the files
// through cache -> mirror -> Debian -> URLs, verifies them, and writes uint8 NHWC images,
// uint8 labels and a meta JSON (contracts/dataset-meta.ts) per split.

import type { JsonObject } from '../../pipeline/engine/types.ts';
import { bytesOutput, defineStage, jsonOutput } from '../../pipeline/engine/define-stage.ts';
import { catalogSha256 } from './catalog.ts';
import { fetchDataset } from './fetch.ts';
import { jsonSchema } from '../contracts/common.ts';
import { DatasetMetaSchema } from '../contracts/dataset-meta.ts';

export { fetchDataset, resolveSettings, META_SCHEMA_ID } from './fetch.ts';
export type { FetchOptions, FetchResult, SplitData, SplitMeta, DatasetMeta, ProvenanceEntry } from './fetch.ts';
export { FetchError } from './errors.ts';
export type { FetchErrorCode } from './errors.ts';
export { loadCatalog, validateCatalog } from './catalog.ts';
export type { Catalog, CatalogDataset, CatalogFile } from './catalog.ts';
export { ENV_DATA_DIR, ENV_MIRROR, ENV_DEBIAN_FMNIST, ENV_OFFLINE, DEFAULT_DATA_DIR } from './paths.ts';

/** JSON Schema of the `meta` output. */
export const datasetMetaSchema: JsonObject = jsonSchema(DatasetMetaSchema);

/** Splits every catalogued dataset has; each gives `<split>_images` and `<split>_labels`. */
export const FETCH_SPLITS = ['train', 'test'] as const;

export const fetchStage = defineStage({
  name: 'fetch',
  module: import.meta.url,
  description: 'Fetch and verify a dataset (cache, mirror, Debian, URLs); emit uint8 NHWC images, labels and meta per split',
  params: {},
  matrix: { dataset: { key: 'datasets' } },
  bytes: { train_images: bytesOutput(), train_labels: bytesOutput(), test_images: bytesOutput(), test_labels: bytesOutput() },
  json: { meta: jsonOutput(DatasetMetaSchema) },
  // The catalog is data, not code: its hash enters the fingerprint here.
  runtime: () => ({ catalog_sha256: catalogSha256() }),
  async run(ctx) {
    const dataset = String(ctx.axes.dataset);
    const { splits, meta } = await fetchDataset(dataset, {
      log: (m) => ctx.log(m),
      onProgress: (done, total, message) => ctx.progress(done, total, message),
      signal: ctx.signal,
    });
    for (const split of FETCH_SPLITS) {
      const s = splits[split];
      if (!s) throw new Error(`fetch: dataset '${dataset}' has no '${split}' split in the catalog`);
      await ctx.writeBytes(`${split}_images`, s.images);
      await ctx.writeBytes(`${split}_labels`, s.labels);
    }
    await ctx.write('meta', meta);
  },
});
