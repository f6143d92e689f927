// Default locations and the environment variables that override them.

import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** Repository root (two levels above stages/fetch/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CATALOG_PATH = resolve(REPO_ROOT, 'data/datasets.json');

/** Local cache (data folder): `<dir>/<dataset>/<file>`. Default `<repo>/data/raw`. */
export const ENV_DATA_DIR = 'WEAKCORR_DATA_DIR';
/** Read-only mirror folder laid out as `<dataset>/<file>` (e.g. ../shared/datasets). */
export const ENV_MIRROR = 'WEAKCORR_DATA_MIRROR';
/** Overrides the Debian Fashion-MNIST folder (default /usr/share/datasets/fashion-mnist). */
export const ENV_DEBIAN_FMNIST = 'WEAKCORR_FMNIST_DEBIAN_DIR';
/** When '1' / 'true', URL sources are skipped. */
export const ENV_OFFLINE = 'WEAKCORR_OFFLINE';

export const DEFAULT_DATA_DIR = resolve(REPO_ROOT, 'data/raw');

export function envFlag(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}
