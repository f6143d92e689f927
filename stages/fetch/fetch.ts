// fetchDataset: resolve every split of a dataset through the sources, verify, decode, and
// describe the result (meta). Usable without the engine.

import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { FetchError } from './errors.ts';
import { catalogSha256, getDataset, getFile, loadCatalog, type Catalog, type CatalogDataset, type SplitVariant } from './catalog.ts';
import { DEFAULT_DATA_DIR, ENV_DATA_DIR, ENV_DEBIAN_FMNIST, ENV_MIRROR, ENV_OFFLINE, REPO_ROOT, envFlag } from './paths.ts';
import { SourceResolver, buildSources, describeSource, type Acquired, type FileProvenance, type Source } from './sources.ts';
import { ttyProgress, type DownloadOptions, type LogFn, type ProgressFn } from './download.ts';
import { checkLabels, gunzipBytes, parseIdx } from './idx.ts';
import { parseCifarFiles } from './cifar.ts';
import { checkDigests, digestBytes } from './verify.ts';

export interface FetchOptions {
  /** Cache root; files live in `<dataDir>/<dataset>/`. Default: $WEAKCORR_DATA_DIR or <repo>/data/raw. */
  dataDir?: string;
  /** Mirror root (`<mirrorDir>/<dataset>/<file>`); null disables. Default: $WEAKCORR_DATA_MIRROR. */
  mirrorDir?: string | null;
  /** Debian Fashion-MNIST folder; null disables. Default: $WEAKCORR_FMNIST_DEBIAN_DIR or the catalog's path. */
  debianDir?: string | null;
  /** Skip URL sources. Default: $WEAKCORR_OFFLINE. */
  offline?: boolean;
  /** Accept a split variant the catalog declares partial (e.g. the mirror's 1000 CIFAR-10 test images). Default true. */
  allowPartial?: boolean;
  /** Catalog object (default: data/datasets.json). */
  catalog?: Catalog;
  /** Environment to read the variables from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Log sink (default: lines on stderr prefixed with [fetch]). */
  log?: LogFn;
  /** Download progress in bytes (default: a one-line bar on stderr when it is a TTY). */
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  /** Retry/backoff/stall settings for downloads. */
  download?: Omit<DownloadOptions, 'log' | 'signal' | 'onProgress'>;
}

export interface SplitData {
  count: number;
  /** [N, H, W, C] */
  shape: [number, number, number, number];
  /** N*H*W*C uint8, NHWC. */
  images: Uint8Array;
  /** N uint8 class indices. */
  labels: Uint8Array;
}

export type { DatasetMeta, ProvenanceEntry, SplitMeta } from '../contracts/dataset-meta.ts';
import { DATASET_META_ID as META_SCHEMA_ID, type DatasetMeta, type ProvenanceEntry, type SplitMeta } from '../contracts/dataset-meta.ts';

export interface FetchResult {
  splits: Record<string, SplitData>;
  meta: DatasetMeta;
}

export { META_SCHEMA_ID };

function isInside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

function resolveDir(p: string): string {
  return isAbsolute(p) ? p : resolve(REPO_ROOT, p);
}

/** Resolved locations and flags from options and environment. */
export function resolveSettings(ds: CatalogDataset, opts: FetchOptions) {
  const env = opts.env ?? process.env;
  const dataDir = resolveDir(opts.dataDir ?? (env[ENV_DATA_DIR] || DEFAULT_DATA_DIR));
  const mirrorRaw = opts.mirrorDir === undefined ? env[ENV_MIRROR] || null : opts.mirrorDir;
  const debRaw = opts.debianDir === undefined ? env[ENV_DEBIAN_FMNIST] || ds.debianDir || null : opts.debianDir;
  return {
    dataDir,
    mirrorDir: mirrorRaw ? resolveDir(mirrorRaw) : null,
    debianDir: debRaw ? resolveDir(debRaw) : null,
    offline: opts.offline ?? envFlag(env[ENV_OFFLINE]),
  };
}

function variantFiles(ds: CatalogDataset, v: SplitVariant): string[] {
  return ds.format === 'idx-gz' ? [v.images!, v.labels!] : [...v.records!];
}

interface SplitFailure {
  split: string;
  files: string[];
  attempts: string[];
  note: string;
}

/** One error for every split no source could provide, each with every bad file it found. */
function noSourceError(dataset: string, failures: SplitFailure[], sources: Source[], dataDir: string): FetchError {
  const lines: string[] = [];
  for (const f of failures) {
    lines.push(`${dataset}: no source could provide split '${f.split}' (files: ${f.files.join(', ')})${f.note}.`);
    lines.push(...f.attempts.map((a) => `  - ${a}`));
  }
  lines.push(
    `Sources tried, in order: ${sources.map(describeSource).join(' -> ')}`,
    `To use a local copy, set ${ENV_MIRROR} to a folder laid out as <dataset>/<file>` +
      ` (e.g. ${ENV_MIRROR}=../shared/datasets, relative paths resolve against the repository root),` +
      ` or put verified files into ${dataDir}/${dataset}/ (override with ${ENV_DATA_DIR}).`,
  );
  const attempts = failures.flatMap((f) => f.attempts);
  return new FetchError('NO_SOURCE', lines.join('\n'), { file: failures.map((f) => `${dataset}/${f.split}`).join(', '), attempts, expected: 'a reachable source', actual: 'none' });
}

/**
 * Fetch, verify and decode every split of `name`. Images come back as uint8 NHWC, labels as
 * uint8 class indices, with a meta object (schemas/dataset.schema.json).
 */
export async function fetchDataset(name: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const catalog = opts.catalog ?? loadCatalog();
  const ds = getDataset(catalog, name);
  const settings = resolveSettings(ds, opts);
  const log = opts.log ?? ((m: string) => process.stderr.write(`[fetch] ${m}\n`));
  if (settings.mirrorDir && isInside(settings.dataDir, settings.mirrorDir)) {
    throw new FetchError(
      'BAD_CONFIG',
      `the data folder ${settings.dataDir} lies inside the mirror ${settings.mirrorDir}: the mirror is read-only, choose another ${ENV_DATA_DIR}`,
      { file: settings.dataDir, expected: 'a folder outside the mirror', actual: settings.dataDir },
    );
  }
  const sources = buildSources(name, ds, { ...settings, mirrorEnvVar: ENV_MIRROR });
  const cacheDir = sources[0].location;
  log(`${name}: sources in order: ${sources.map((s) => (s.unavailable ? `${describeSource(s)} [${s.unavailable}]` : describeSource(s))).join(' -> ')}`);
  const resolver = new SourceResolver(sources, {
    dataset: name,
    ds,
    cacheDir,
    log,
    download: { ...opts.download, onProgress: opts.onProgress ?? ttyProgress(`${name} `) },
    signal: opts.signal,
  });
  const allowPartial = opts.allowPartial ?? true;
  const splits: Record<string, SplitData> = {};
  const splitMeta: Record<string, SplitMeta> = {};
  const provenance: ProvenanceEntry[] = [];
  // Every split is tried even after one fails, so one error lists every bad file of the dataset.
  const failures: SplitFailure[] = [];
  const partial: string[] = [];
  try {
    for (const [split, allVariants] of Object.entries(ds.splits)) {
      const variants = allVariants.filter((v) => allowPartial || !v.partial);
      const chosen = await resolveSplit(resolver, ds, variants);
      if (!chosen) {
        const files = [...new Set(allVariants.flatMap((v) => variantFiles(ds, v)))];
        const note = allVariants.length > variants.length ? ' (declared partial variants skipped: allowPartial is false)' : '';
        const attempts = resolver.attempts.filter((a) => files.some((f) => a.startsWith(`${name}/${f} from `)));
        failures.push({ split, files, attempts, note });
        continue;
      }
      const { variant, acquired } = chosen;
      let data: SplitData;
      try {
        data = await decodeSplit(name, ds, variant, acquired);
      } catch (e) {
        // Content that verifies but does not parse: do not keep it in the cache.
        await resolver.discardWritten(acquired.map((a) => a.cachePath).filter((p): p is string => !!p));
        throw e;
      }
      const roles: ProvenanceEntry['role'][] = ds.format === 'idx-gz' ? ['images', 'labels'] : acquired.map(() => 'records');
      acquired.forEach((a, k) => provenance.push({ ...a.provenance, split, role: roles[k]! }));
      splits[split] = data;
      splitMeta[split] = describeSplit(split, variant, data, acquired);
      if (variant.partial) {
        partial.push(`${split} split partial: ${data.count} of ${variant.partial.of} images`);
        log(`${name}: split '${split}' is partial: ${data.count} of ${variant.partial.of} images (${variant.partial.note})`);
      }
    }
    if (failures.length) throw noSourceError(name, failures, sources, settings.dataDir);
  } catch (e) {
    await resolver.discardWritten([]).catch(() => {});
    throw e;
  }
  const meta = buildMeta(name, ds, splitMeta, provenance, opts.catalog ? sha256Json(catalog) : catalogSha256());
  // The one line a run shows per dataset (the lines above are for `run -v`).
  const from = [...new Set(provenance.map((p) => `${p.source} ${dirname(p.location)}`))].join(', ');
  log(`${name}: ${provenance.length} file(s) verified, from ${from}${partial.length ? `; ${partial.join('; ')}` : ''}`);
  return { splits, meta };
}

/** Source-major: the first source at which some variant (full before partial) is complete. */
async function resolveSplit(
  resolver: SourceResolver,
  ds: CatalogDataset,
  variants: SplitVariant[],
): Promise<{ variant: SplitVariant; acquired: Acquired[] } | undefined> {
  for (let s = 0; s < resolver.sources.length; s++) {
    for (const variant of variants) {
      const acquired: Acquired[] = [];
      let complete = true;
      for (const fname of variantFiles(ds, variant)) {
        const a = await resolver.acquire(getFile(ds, fname), s);
        if (!a) {
          complete = false;
          // Local sources are cheap to check: look at every file, so every bad one is reported at
          // once. A download is not started for nothing.
          if (resolver.sources[s]!.kind === 'url') break;
          continue;
        }
        acquired.push(a);
      }
      if (complete) return { variant, acquired };
    }
  }
  return undefined;
}

async function decodeIdxFile(a: Acquired, label: string): Promise<Buffer> {
  const decoded = a.decoded ?? (await gunzipBytes(label, a.bytes));
  if (a.file.decoded) {
    const dd = digestBytes(decoded);
    checkDigests(`${label} (decoded)`, { size: a.file.decoded.size, sha256: a.file.decoded.sha256 }, dd);
    a.provenance.decoded = { size: dd.size, sha256: dd.sha256 };
  }
  return decoded;
}

async function decodeSplit(name: string, ds: CatalogDataset, v: SplitVariant, acquired: Acquired[]): Promise<SplitData> {
  const { height: H, width: W, channels: C } = ds.image;
  const K = ds.classes.length;
  if (ds.format === 'idx-gz') {
    const [ai, al] = acquired;
    const li = ai.provenance.location;
    const ll = al.provenance.location;
    const img = parseIdx(li, await decodeIdxFile(ai, li), ai.file.idx);
    const lab = parseIdx(ll, await decodeIdxFile(al, ll), al.file.idx);
    if (img.dims.length !== 3 || img.dims[1] !== H || img.dims[2] !== W || C !== 1) {
      throw new FetchError('BAD_DIMS', `${li}: idx image dims: expected [N, ${H}, ${W}] with 1 channel, got [${img.dims.join(', ')}]`, {
        file: li,
        expected: `[N, ${H}, ${W}]`,
        actual: `[${img.dims.join(', ')}]`,
      });
    }
    const n = img.dims[0];
    if (lab.dims.length !== 1 || lab.dims[0] !== n) {
      throw new FetchError('BAD_DIMS', `${ll}: label count: expected ${n} (as in ${li}), got [${lab.dims.join(', ')}]`, {
        file: ll,
        expected: n,
        actual: lab.dims.join(','),
      });
    }
    if (n !== v.count) throw new FetchError('BAD_DIMS', `${li}: image count: expected ${v.count}, got ${n}`, { file: li, expected: v.count, actual: n });
    checkLabels(ll, lab.data, K);
    return { count: n, shape: [n, H, W, C], images: new Uint8Array(img.data), labels: new Uint8Array(lab.data) };
  }
  const parsed = parseCifarFiles(
    acquired.map((a) => ({ label: a.provenance.location, bytes: a.bytes, records: a.file.records })),
    K,
  );
  if (parsed.count !== v.count) {
    throw new FetchError('BAD_LENGTH', `${name}: record count: expected ${v.count}, got ${parsed.count}`, { expected: v.count, actual: parsed.count });
  }
  return { count: parsed.count, shape: [parsed.count, H, W, C], images: parsed.images, labels: parsed.labels };
}

function describeSplit(split: string, v: SplitVariant, d: SplitData, acquired: Acquired[]): SplitMeta {
  const hist = new Array<number>(256).fill(0);
  let maxLabel = 0;
  for (const l of d.labels) {
    hist[l]++;
    if (l > maxLabel) maxLabel = l;
  }
  return {
    count: d.count,
    canonical_count: v.partial ? v.partial.of : v.count,
    partial: !!v.partial,
    partial_note: v.partial ? v.partial.note : null,
    shape: [...d.shape],
    labels_shape: [d.count],
    images_output: `${split}_images`,
    labels_output: `${split}_labels`,
    images_bytes: d.images.length,
    labels_bytes: d.labels.length,
    images_sha256: createHash('sha256').update(d.images).digest('hex'),
    labels_sha256: createHash('sha256').update(d.labels).digest('hex'),
    label_histogram: hist.slice(0, Math.max(maxLabel + 1, 1)),
    files: acquired.map((a) => a.file.name),
  };
}

function sha256Json(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex');
}

function buildMeta(name: string, ds: CatalogDataset, splits: Record<string, SplitMeta>, files: ProvenanceEntry[], catalogHash: string): DatasetMeta {
  const { height: H, width: W, channels: C } = ds.image;
  for (const s of Object.values(splits)) {
    while (s.label_histogram.length < ds.classes.length) s.label_histogram.push(0);
  }
  const cifar = ds.format === 'cifar-bin';
  return {
    schema: META_SCHEMA_ID,
    dataset: name,
    title: ds.title,
    format: ds.format,
    homepage: ds.homepage,
    license: ds.license,
    citation: ds.citation,
    classes: [...ds.classes],
    num_classes: ds.classes.length,
    dtype: 'uint8',
    layout: 'NHWC',
    image: { height: H, width: W, channels: C },
    channel_order: C === 1 ? 'gray' : 'RGB',
    pixel_layout: cifar
      ? `NHWC interleaved RGB: pixel (n, y, x, c) is byte ((n*${H} + y)*${W} + x)*${C} + c, c = 0 R, 1 G, 2 B; ` +
        `converted from CIFAR-10's planar records (1 label byte, then 1024 R, 1024 G, 1024 B bytes, each plane ${H}x${W} row-major)`
      : `NHWC with C = 1: pixel (n, y, x) is byte (n*${H} + y)*${W} + x, as in the idx file (row-major, 0 = background)`,
    label_encoding: `one uint8 class index per image, 0..${ds.classes.length - 1}, indexing 'classes'`,
    splits,
    provenance: { catalog_sha256: catalogHash, files },
  };
}
