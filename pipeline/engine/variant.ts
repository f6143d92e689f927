// An experiment as run: its config file plus the `--set` overrides of this command line.
// A run with overrides is a *variant* with its own name (`quick+1a2b3c4d`, or `--name`), so it
// never writes the canonical experiment's published files or index, and `status` compares a
// task with the record of the same variant.
import { canonicalJson, sha256 } from './fingerprint.ts';
import { ConfigError } from './errors.ts';
import { parseSetFlag } from './config.ts';
import type { JsonObject } from './types.ts';

export interface Variant {
  /** What the store's index, published paths and per-experiment keys use. */
  name: string;
  /** The experiment config it starts from. */
  base: string;
  /** dot path -> value, as set on the command line (later flags win); empty for the experiment as written */
  overrides: JsonObject;
}

// No '+': names with one are the automatic `<experiment>+<hash>` ones.
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function overridesOf(sets: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const flag of sets) {
    const { path, value } = parseSetFlag(flag);
    out[path.join('.')] = value;
  }
  return out;
}

/** Short, order-independent hash of a set of overrides. */
export function overridesHash(overrides: JsonObject): string {
  return sha256(canonicalJson(overrides)).slice(0, 8);
}

export function variantOf(base: string, sets: readonly string[], name: string | undefined, knownExperiments: readonly string[]): Variant {
  const overrides = overridesOf(sets);
  const modified = Object.keys(overrides).length > 0;
  if (name !== undefined) {
    if (!modified) throw new ConfigError(`--name ${name}: names a variant made with --set; without --set the experiment is '${base}' itself`);
    if (!NAME_RE.test(name)) throw new ConfigError(`--name ${name}: expected letters, digits, '.', '_' or '-' (at most 100, starting with a letter or digit)`);
    if (knownExperiments.includes(name)) throw new ConfigError(`--name ${name}: an experiment config of that name exists; a variant must not overwrite its published files`);
  }
  return { name: name ?? (modified ? `${base}+${overridesHash(overrides)}` : base), base, overrides };
}

/** `a2.steps=12, a1.widths=[8,16]`: how a banner or a log line names the overrides. */
export function describeOverrides(overrides: JsonObject): string {
  return Object.entries(overrides).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
}
