// The dataset catalog (data/datasets.json): canonical URLs, file names, sizes, checksums, formats.

import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { schemaValidator, type SchemaValidator } from '../../pipeline/engine/schema-validator.ts';
import { FetchError } from './errors.ts';
import { CATALOG_PATH } from './paths.ts';

export type DatasetFormat = 'idx-gz' | 'cifar-bin';

/** What a file's bytes must match. Every checksum present is verified. */
export interface ChecksumSpec {
  size: number;
  sha256?: string;
  md5?: string;
}

export interface CatalogFile extends ChecksumSpec {
  name: string;
  /** The gunzipped content, for idx .gz files: lets a re-gzipped copy be verified. */
  decoded?: { size: number; sha256: string };
  /** The idx header the decoded file must carry. */
  idx?: { magic: number; dims: number[] };
  /** CIFAR record files: number of 3073-byte records. */
  records?: number;
  /** CIFAR record files: the member path inside the archive, when the archive holds it. */
  member?: string;
}

export interface CatalogArchive extends ChecksumSpec {
  name: string;
  urls: string[];
}

/** One way to make a split: idx files (images + labels) or CIFAR record files. */
export interface SplitVariant {
  images?: string;
  labels?: string;
  records?: string[];
  count: number;
  /** Declared partial split: `count` of `of` canonical images. */
  partial?: { of: number; note: string };
}

export interface CatalogDataset {
  title: string;
  format: DatasetFormat;
  homepage: string;
  license: string;
  citation: string;
  image: { height: number; width: number; channels: number };
  classes: string[];
  /** Base URLs for idx files, primary first: file URL = base + name. */
  urls?: string[];
  /** Debian package folder holding re-gzipped copies (Fashion-MNIST). */
  debianDir?: string;
  archive?: CatalogArchive;
  files: CatalogFile[];
  /** Split name -> variants in order of preference (full first, declared partial after). */
  splits: Record<string, SplitVariant[]>;
}

export interface Catalog {
  version: number;
  datasets: Record<string, CatalogDataset>;
}

const hex = (n: number) => ({ type: 'string', pattern: `^[0-9a-f]{${n}}$` });
const checksumProps = { size: { type: 'integer', minimum: 0 }, sha256: hex(64), md5: hex(32) };

const CATALOG_SCHEMA = {
  type: 'object',
  required: ['version', 'datasets'],
  properties: {
    version: { const: 1 },
    $comment: { type: 'string' },
    datasets: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['title', 'format', 'license', 'image', 'classes', 'files', 'splits'],
        additionalProperties: false,
        properties: {
          title: { type: 'string' },
          format: { enum: ['idx-gz', 'cifar-bin'] },
          homepage: { type: 'string' },
          license: { type: 'string' },
          citation: { type: 'string' },
          image: {
            type: 'object',
            required: ['height', 'width', 'channels'],
            additionalProperties: false,
            properties: {
              height: { type: 'integer', minimum: 1 },
              width: { type: 'integer', minimum: 1 },
              channels: { type: 'integer', minimum: 1 },
            },
          },
          classes: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 256 },
          urls: { type: 'array', items: { type: 'string' } },
          debianDir: { type: 'string' },
          archive: {
            type: 'object',
            required: ['name', 'size', 'urls'],
            additionalProperties: false,
            properties: { name: { type: 'string' }, urls: { type: 'array', items: { type: 'string' } }, ...checksumProps },
          },
          files: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'size'],
              additionalProperties: false,
              anyOf: [{ required: ['sha256'] }, { required: ['md5'] }, { required: ['decoded'] }],
              properties: {
                name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$' },
                ...checksumProps,
                $comment: { type: 'string' },
                decoded: {
                  type: 'object',
                  required: ['size', 'sha256'],
                  additionalProperties: false,
                  properties: { size: { type: 'integer', minimum: 0 }, sha256: hex(64) },
                },
                idx: {
                  type: 'object',
                  required: ['magic', 'dims'],
                  additionalProperties: false,
                  properties: {
                    magic: { type: 'integer' },
                    dims: { type: 'array', items: { type: 'integer', minimum: 0 } },
                  },
                },
                records: { type: 'integer', minimum: 0 },
                member: { type: 'string' },
              },
            },
          },
          splits: {
            type: 'object',
            additionalProperties: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                required: ['count'],
                additionalProperties: false,
                properties: {
                  images: { type: 'string' },
                  labels: { type: 'string' },
                  records: { type: 'array', items: { type: 'string' }, minItems: 1 },
                  count: { type: 'integer', minimum: 0 },
                  partial: {
                    type: 'object',
                    required: ['of', 'note'],
                    additionalProperties: false,
                    properties: { of: { type: 'integer', minimum: 0 }, note: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

// Compiled on first use, not at import: every command imports the fetch stage (its runtime reads
// the catalog); kept compiled across commands (schema-validator.ts).
let validator: SchemaValidator | undefined;

/** Validate a catalog object (schema + cross references); throws FetchError('BAD_CATALOG'). */
export function validateCatalog(value: unknown, origin = 'catalog'): Catalog {
  const validateCatalogSchema = (validator ??= schemaValidator(CATALOG_SCHEMA, { allErrors: true }));
  if (!validateCatalogSchema(value)) {
    const errs = (validateCatalogSchema.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
    throw new FetchError('BAD_CATALOG', `${origin}: invalid dataset catalog: ${errs.join('; ')}`, { file: origin });
  }
  const cat = value as unknown as Catalog;
  for (const [name, ds] of Object.entries(cat.datasets)) {
    const files = new Set(ds.files.map((f) => f.name));
    const bad = (msg: string) => new FetchError('BAD_CATALOG', `${origin}: dataset '${name}': ${msg}`, { file: origin });
    for (const [split, variants] of Object.entries(ds.splits)) {
      for (const v of variants) {
        const refs = ds.format === 'idx-gz' ? [v.images, v.labels] : v.records ?? [];
        if (ds.format === 'idx-gz' && (!v.images || !v.labels)) throw bad(`split '${split}' needs 'images' and 'labels'`);
        if (ds.format === 'cifar-bin' && !v.records) throw bad(`split '${split}' needs 'records'`);
        for (const r of refs) if (!r || !files.has(r)) throw bad(`split '${split}' names unknown file '${r}'`);
      }
    }
    if (ds.format === 'idx-gz' && !ds.files.every((f) => f.idx)) throw bad(`every idx file needs an 'idx' header spec`);
    if (ds.format === 'cifar-bin' && !ds.files.every((f) => f.records !== undefined)) throw bad(`every CIFAR file needs 'records'`);
  }
  return cat;
}

let cached: { catalog: Catalog; sha256: string } | undefined;

/** Load and validate data/datasets.json (memoized). */
export function loadCatalog(path: string = CATALOG_PATH): Catalog {
  if (path === CATALOG_PATH && cached) return cached.catalog;
  const text = readFileSync(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new FetchError('BAD_CATALOG', `${path}: not valid JSON: ${(e as Error).message}`, { file: path });
  }
  const catalog = validateCatalog(parsed, path);
  if (path === CATALOG_PATH) cached = { catalog, sha256: createHash('sha256').update(text).digest('hex') };
  return catalog;
}

/** sha256 of the catalog file's text (enters the stage's runtime fingerprint). */
export function catalogSha256(path: string = CATALOG_PATH): string {
  if (path === CATALOG_PATH) {
    loadCatalog();
    return cached!.sha256;
  }
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function getDataset(catalog: Catalog, name: string): CatalogDataset {
  const ds = Object.prototype.hasOwnProperty.call(catalog.datasets, name) ? catalog.datasets[name] : undefined;
  if (!ds) {
    throw new FetchError(
      'UNKNOWN_DATASET',
      `unknown dataset '${name}': the catalog knows ${Object.keys(catalog.datasets).map((n) => `'${n}'`).join(', ')}`,
      { file: name, expected: Object.keys(catalog.datasets).join('|'), actual: name },
    );
  }
  return ds;
}

export function getFile(ds: CatalogDataset, name: string): CatalogFile {
  const f = ds.files.find((x) => x.name === name);
  if (!f) throw new FetchError('BAD_CATALOG', `catalog has no file '${name}'`, { file: name });
  return f;
}
