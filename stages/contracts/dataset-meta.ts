// Contract of the fetch stage's 'meta' output: one dataset's split artifacts and where their
// bytes came from. Producer: stages/fetch; consumers: train/correlate (via the bytes) and report.
import { Type, type Static } from '@sinclair/typebox';
import { artifactOptions, stringEnum } from './common.ts';

export const DATASET_META_ID = 'weakcorr/dataset-meta@1';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Md5 = Type.String({ pattern: '^[0-9a-f]{32}$' });
const Count = Type.Integer({ minimum: 0 });

export const SplitMetaSchema = Type.Object({
  count: Type.Integer({ minimum: 0, description: 'N: number of images (and labels) in this artifact.' }),
  canonical_count: Type.Integer({ minimum: 0, description: 'Number of images in the canonical split; larger than count only for a declared partial split.' }),
  partial: Type.Boolean({ description: "True when the catalog declares this variant partial (e.g. the mirror's first 1000 CIFAR-10 test images)." }),
  partial_note: Type.Union([Type.String(), Type.Null()]),
  shape: Type.Array(Count, { minItems: 4, maxItems: 4, description: '[N, H, W, C] of the images output.' }),
  labels_shape: Type.Array(Count, { minItems: 1, maxItems: 1 }),
  images_output: Type.String({ description: "Name of the bytes output holding the images, e.g. 'train_images'." }),
  labels_output: Type.String(),
  images_bytes: Type.Integer({ minimum: 0, description: '= N*H*W*C' }),
  labels_bytes: Type.Integer({ minimum: 0, description: '= N' }),
  images_sha256: Sha256,
  labels_sha256: Sha256,
  label_histogram: Type.Array(Count, { description: 'Count of each label value 0..num_classes-1.' }),
  files: Type.Array(Type.String(), { minItems: 1, description: 'Catalog files the split was decoded from, in order.' }),
}, { additionalProperties: false });

export const FileProvenanceSchema = Type.Object({
  name: Type.String(),
  source: stringEnum(['cache', 'mirror', 'debian', 'url'], { description: 'Which source supplied the file.' }),
  location: Type.String({ description: "Path or URL that was read (the archive's location when 'archive' is set)." }),
  archive: Type.Union([Type.Null(), Type.Object({ name: Type.String(), member: Type.String(), size: Count, sha256: Sha256, md5: Md5 }, { additionalProperties: false })]),
  size: Type.Integer({ minimum: 0, description: 'Size in bytes of the file as read.' }),
  sha256: Sha256,
  md5: Md5,
  decoded: Type.Union([Type.Null(), Type.Object({ size: Count, sha256: Sha256 }, { additionalProperties: false })]),
  verified: Type.Array(Type.String(), { minItems: 1, description: "Catalog values checked, e.g. ['size', 'sha256', 'md5'] or, for the Debian copy, ['decoded.size', 'decoded.sha256']." }),
}, { additionalProperties: false });

export const ProvenanceEntrySchema = Type.Composite([FileProvenanceSchema, Type.Object({
  split: Type.String(),
  role: stringEnum(['images', 'labels', 'records']),
})], { additionalProperties: false });

export const DatasetMetaSchema = Type.Object({
  schema: Type.Literal(DATASET_META_ID),
  dataset: Type.String({ description: "Catalog name, e.g. 'mnist', 'fashion-mnist', 'cifar-10'." }),
  title: Type.String(),
  format: stringEnum(['idx-gz', 'cifar-bin'], { description: 'Source file format the artifacts were decoded from.' }),
  homepage: Type.String(),
  license: Type.String(),
  citation: Type.String(),
  classes: Type.Array(Type.String(), { minItems: 1, description: 'Class names; a label value indexes this list.' }),
  num_classes: Type.Integer({ minimum: 1 }),
  dtype: Type.Literal('uint8', { description: 'Element type of the images and labels outputs.' }),
  layout: Type.Literal('NHWC', { description: 'Images are [N, H, W, C], C fastest; no header, no padding.' }),
  image: Type.Object({ height: Type.Integer({ minimum: 1 }), width: Type.Integer({ minimum: 1 }), channels: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
  channel_order: Type.Union([Type.Literal('gray'), Type.Literal('RGB')], { description: "'RGB': c = 0 red, 1 green, 2 blue (interleaved per pixel); 'gray': one channel, 0 = background for MNIST, 255 = full ink." }),
  pixel_layout: Type.String({ description: 'Human-readable statement of the byte layout and of any conversion from the source format.' }),
  label_encoding: Type.String(),
  splits: Type.Record(Type.String(), SplitMetaSchema, { minProperties: 1, description: "Split name ('train', 'test') -> description of its two bytes outputs." }),
  provenance: Type.Object({
    catalog_sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 of data/datasets.json as used.' }),
    files: Type.Array(ProvenanceEntrySchema, { minItems: 1 }),
  }, { additionalProperties: false }),
}, artifactOptions('dataset.schema.json', "Dataset artifact meta (output 'meta' of the fetch stage)", "Describes one dataset's split artifacts. For each split S the stage also writes the bytes outputs '<S>_images' (uint8, shape [N, H, W, C], layout NHWC: pixel (n, y, x, c) is byte ((n*H + y)*W + x)*C + c; CIFAR-10 is converted from its planar records to interleaved RGB, c = 0 R, 1 G, 2 B) and '<S>_labels' (uint8, shape [N], class indices into 'classes').", { dialect: false }));

export type DatasetMeta = Static<typeof DatasetMetaSchema>;
export type SplitMeta = Static<typeof SplitMetaSchema>;
export type FileProvenance = Static<typeof FileProvenanceSchema>;
export type ProvenanceEntry = Static<typeof ProvenanceEntrySchema>;
