// Where a catalog file can come from, in order: the local cache, the mirror folder, the
// Debian package folder (Fashion-MNIST), then the canonical URLs. Each attempt is logged.

import { readFile, rename, rm, mkdir, stat, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FetchError, errorMessage, isAbort } from './errors.ts';
import type { CatalogDataset, CatalogFile } from './catalog.ts';
import { checkDigests, checksPerformed, digestBytes, digestFile, htmlPage, verifyFile, type Digests } from './verify.ts';
import { downloadFile, type DownloadOptions, type LogFn } from './download.ts';
import { gunzipBytes } from './idx.ts';

export type SourceKind = 'cache' | 'mirror' | 'debian' | 'url';

export interface Source {
  kind: SourceKind;
  /** Folder (cache, mirror, debian) or base URL / archive URL (url). */
  location: string;
  /** When set, the source is not usable and this says why (e.g. the mirror variable is unset). */
  unavailable?: string;
}

/** Provenance of one file, as recorded in the dataset meta. */
export type { FileProvenance } from '../contracts/dataset-meta.ts';
import type { FileProvenance } from '../contracts/dataset-meta.ts';

export interface Acquired {
  file: CatalogFile;
  /** The file's bytes (gzip for idx files, records for CIFAR). */
  bytes: Buffer;
  /** Decoded content when the source had to decode it to verify (Debian). */
  decoded?: Buffer;
  /** Path of the copy in the cache, when there is one. */
  cachePath?: string;
  provenance: FileProvenance;
}

export interface AcquireContext {
  dataset: string;
  ds: CatalogDataset;
  /** `<dataDir>/<dataset>`: where downloads and archive extractions land. */
  cacheDir: string;
  log: LogFn;
  download: DownloadOptions;
  signal?: AbortSignal;
}

const exists = async (p: string) => {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
};

/** One line describing a source, for logs and error messages. */
export function describeSource(s: Source): string {
  return `${s.kind} ${s.location}`;
}

/** Fetches files from an ordered list of sources, remembering every attempt. */
export class SourceResolver {
  readonly attempts: string[] = [];
  private memo = new Map<string, Promise<Acquired>>();
  private archiveMemo = new Map<number, Promise<Map<string, { path: string; provenance: FileProvenance['archive'] & object; location: string }>>>();
  /** Files this resolver wrote into the cache (removed again if they turn out bad). */
  readonly written = new Set<string>();
  /** Where the files this resolver extracted into the cache came from. */
  private origin = new Map<string, { kind: SourceKind; location: string; archive: FileProvenance['archive'] }>();

  constructor(
    readonly sources: Source[],
    private ctx: AcquireContext,
  ) {}

  /** Acquire `file` from the first of sources[0..upTo] that has a valid copy. */
  async acquire(file: CatalogFile, upTo = this.sources.length - 1): Promise<Acquired | undefined> {
    for (let i = 0; i <= upTo; i++) {
      const got = await this.tryAt(file, i).then(
        (a) => a,
        (e: unknown) => {
          if (isAbort(e) || this.ctx.signal?.aborted) throw e;
          return undefined;
        },
      );
      if (got) return got;
    }
    return undefined;
  }

  private tryAt(file: CatalogFile, i: number): Promise<Acquired> {
    const key = `${i}\u0000${file.name}`;
    let p = this.memo.get(key);
    if (!p) {
      const src = this.sources[i];
      const where = `${this.ctx.dataset}/${file.name} from ${describeSource(src)}`;
      p = this.attempt(file, src, i).then(
        (a) => {
          this.ctx.log(`${where}: ok (${a.provenance.verified.join(', ')} verified${a.provenance.archive ? `, via ${a.provenance.archive.name}` : ''})`);
          return a;
        },
        (e: unknown) => {
          const line = `${where}: ${errorMessage(e)}`;
          this.attempts.push(line);
          this.ctx.log(line);
          throw e;
        },
      );
      p.catch(() => {});
      this.memo.set(key, p);
    }
    return p;
  }

  private async attempt(file: CatalogFile, src: Source, i: number): Promise<Acquired> {
    if (src.unavailable) throw new FetchError('MISSING_FILE', `skipped: ${src.unavailable}`);
    switch (src.kind) {
      case 'cache':
        return this.fromFolder(file, src, i, true);
      case 'mirror':
        return this.fromFolder(file, src, i, false);
      case 'debian':
        return this.fromDebian(file, src);
      case 'url':
        return this.fromUrl(file, src, i);
    }
  }

  private provenance(file: CatalogFile, src: SourceKind, location: string, d: Digests, verified: string[]): FileProvenance {
    return { name: file.name, source: src, location, archive: null, size: d.size, sha256: d.sha256, md5: d.md5, decoded: null, verified };
  }

  /** Cache or mirror folder: the file itself, or (CIFAR) the archive holding it. */
  private async fromFolder(file: CatalogFile, src: Source, i: number, isCache: boolean): Promise<Acquired> {
    const path = join(src.location, file.name);
    if (await exists(path)) {
      const bytes = await readFile(path);
      const d = digestBytes(bytes);
      try {
        checkDigests(path, file, d, bytes);
      } catch (e) {
        if (isCache) {
          // A bad file in our own cache is removed so the next source can replace it.
          await rm(path, { force: true });
          throw new FetchError((e as FetchError).code, `${errorMessage(e)}; removed the bad cached copy`, {
            file: path,
            expected: (e as FetchError).expected,
            actual: (e as FetchError).actual,
          });
        }
        throw e;
      }
      const prov = this.provenance(file, src.kind, path, d, checksPerformed(file));
      const o = isCache ? this.origin.get(path) : undefined;
      if (o) {
        // Extracted into the cache earlier in this run: record where it really came from.
        prov.source = o.kind;
        prov.location = o.location;
        prov.archive = o.archive;
      }
      return { file, bytes, cachePath: isCache ? path : undefined, provenance: prov };
    }
    const archive = this.ctx.ds.archive;
    if (archive && file.member && (await exists(join(src.location, archive.name)))) {
      return this.fromArchive(file, src, i, join(src.location, archive.name), false);
    }
    const what = src.kind === 'mirror' ? 'missing mirror file' : 'not in the cache';
    const alt = archive && file.member ? ` (nor ${join(src.location, archive.name)})` : '';
    throw new FetchError('MISSING_FILE', `${what}: ${path}${alt}`, { file: path, expected: 'a file', actual: 'missing' });
  }

  /** Debian's re-gzipped copy: other gzip headers, so verify the decoded content. */
  private async fromDebian(file: CatalogFile, src: Source): Promise<Acquired> {
    const path = join(src.location, file.name);
    if (!file.decoded) throw new FetchError('MISSING_FILE', `the catalog records no decoded checksum for ${file.name}`);
    if (!(await exists(path))) {
      throw new FetchError('MISSING_FILE', `missing Debian file: ${path}`, { file: path, expected: 'a file', actual: 'missing' });
    }
    const bytes = await readFile(path);
    const page = htmlPage(bytes);
    if (page) throw new FetchError('HTML_PAGE', `${path}: ${page}, not the dataset file (a saved error or login page?); replace it with the real file`, { file: path, expected: 'gzip', actual: page });
    const decoded = await gunzipBytes(path, bytes);
    const dd = digestBytes(decoded);
    checkDigests(`${path} (decoded)`, { size: file.decoded.size, sha256: file.decoded.sha256 }, dd);
    const prov = this.provenance(file, 'debian', path, digestBytes(bytes), ['decoded.size', 'decoded.sha256']);
    prov.decoded = { size: dd.size, sha256: dd.sha256 };
    return { file, bytes, decoded, provenance: prov };
  }

  private async fromUrl(file: CatalogFile, src: Source, i: number): Promise<Acquired> {
    const archive = this.ctx.ds.archive;
    if (archive) {
      if (!file.member) throw new FetchError('MISSING_FILE', `${file.name} is not in ${archive.name}`);
      return this.fromArchive(file, src, i, src.location, true);
    }
    const url = src.location + file.name;
    const dest = join(this.ctx.cacheDir, file.name);
    const d = await downloadFile(url, dest, file, { ...this.ctx.download, log: this.ctx.log, signal: this.ctx.signal });
    this.written.add(dest);
    const bytes = await readFile(dest);
    return { file, bytes, cachePath: dest, provenance: this.provenance(file, 'url', url, d, checksPerformed(file)) };
  }

  /**
   * A record file from the CIFAR archive at `location` (a folder path or a URL). The archive is
   * verified (downloaded first for URLs), every catalogued member is extracted into the cache,
   * verified and renamed into place; a downloaded archive is deleted afterwards.
   */
  private async fromArchive(file: CatalogFile, src: Source, i: number, location: string, isUrl: boolean): Promise<Acquired> {
    let p = this.archiveMemo.get(i);
    if (!p) {
      p = this.extractArchive(location, isUrl);
      p.catch(() => {});
      this.archiveMemo.set(i, p);
    }
    const members = await p;
    const m = members.get(file.name);
    if (!m) {
      throw new FetchError('ARCHIVE_MEMBER_MISSING', `${location}: member ${file.member} missing from the archive`, {
        file: location,
        expected: file.member,
        actual: 'missing',
      });
    }
    const bytes = await readFile(m.path);
    const d = digestBytes(bytes);
    checkDigests(m.path, file, d);
    const prov = this.provenance(file, src.kind, m.location, d, checksPerformed(file));
    prov.archive = m.provenance;
    return { file, bytes, cachePath: m.path, provenance: prov };
  }

  private async extractArchive(location: string, isUrl: boolean) {
    const { ds, cacheDir, signal } = this.ctx;
    const archive = ds.archive!;
    await mkdir(cacheDir, { recursive: true });
    let archivePath = location;
    let downloaded = false;
    let ad: Digests;
    if (isUrl) {
      archivePath = join(cacheDir, `.${archive.name}.${process.pid}.${randomBytes(4).toString('hex')}.download`);
      ad = await downloadFile(location, archivePath, archive, { ...this.ctx.download, name: archive.name, log: this.ctx.log, signal });
      downloaded = true;
    } else {
      ad = await verifyFile(archivePath, archive, signal);
    }
    const tmp = join(cacheDir, `.extract-${process.pid}-${randomBytes(4).toString('hex')}`);
    const out = new Map<string, { path: string; provenance: NonNullable<FileProvenance['archive']>; location: string }>();
    const kind: SourceKind = isUrl ? 'url' : this.sources.find((x) => location.startsWith(x.location + '/'))?.kind ?? 'mirror';
    try {
      await mkdir(tmp, { recursive: true });
      const wanted = new Map(ds.files.filter((f) => f.member).map((f) => [f.member!, f] as const));
      this.ctx.log(`${this.ctx.dataset}: extracting ${wanted.size} members of ${archive.name} into ${cacheDir}`);
      // tar loads here, not with the stage: planning never extracts.
      const { extract: untar } = await import('tar');
      await untar({
        file: archivePath,
        cwd: tmp,
        strict: true,
        filter: (p: string) => wanted.has(p.replace(/^\.\//, '')),
      });
      for (const [member, f] of wanted) {
        const extracted = join(tmp, member);
        if (!(await exists(extracted))) continue;
        await verifyFile(extracted, f, signal).catch((e: unknown) => {
          throw new FetchError(
            (e as FetchError).code ?? 'CHECKSUM_MISMATCH',
            errorMessage(e).replace(extracted, `${archivePath} member ${member}`),
            { file: `${archivePath}:${member}`, expected: (e as FetchError).expected, actual: (e as FetchError).actual },
          );
        });
        const dest = join(cacheDir, f.name);
        await rename(extracted, dest);
        this.written.add(dest);
        const provenance = { name: archive.name, member, size: ad.size, sha256: ad.sha256, md5: ad.md5 };
        out.set(f.name, { path: dest, location, provenance });
        this.origin.set(dest, { kind, location, archive: provenance });
      }
      return out;
    } finally {
      await rm(tmp, { recursive: true, force: true });
      if (downloaded) await rm(archivePath, { force: true });
    }
  }

  /** Remove files this resolver wrote into the cache (after a failure), and the cache folder if empty. */
  async discardWritten(paths: Iterable<string> = this.written): Promise<void> {
    for (const p of [...paths]) {
      await rm(p, { force: true });
      this.written.delete(p);
    }
    await rmdir(this.ctx.cacheDir).catch(() => {});
  }
}

/** The ordered source list for one dataset. */
export function buildSources(
  dataset: string,
  ds: CatalogDataset,
  opts: { dataDir: string; mirrorDir: string | null; debianDir: string | null; offline: boolean; mirrorEnvVar: string },
): Source[] {
  const sources: Source[] = [{ kind: 'cache', location: join(opts.dataDir, dataset) }];
  sources.push(
    opts.mirrorDir
      ? { kind: 'mirror', location: join(opts.mirrorDir, dataset) }
      : { kind: 'mirror', location: `(${opts.mirrorEnvVar} not set)`, unavailable: `${opts.mirrorEnvVar} is not set` },
  );
  if (ds.debianDir !== undefined) {
    sources.push(
      opts.debianDir
        ? { kind: 'debian', location: opts.debianDir }
        : { kind: 'debian', location: '(disabled)', unavailable: 'the Debian path is disabled' },
    );
  }
  const urls = ds.archive ? ds.archive.urls : ds.urls ?? [];
  for (const u of urls) {
    sources.push(opts.offline ? { kind: 'url', location: u, unavailable: 'offline mode' } : { kind: 'url', location: u });
  }
  return sources;
}

