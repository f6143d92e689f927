// Experiment configs: load by name or path, apply `--set` overrides, validate with ajv.
// Nothing runs on an invalid config; every error names the file or flag and the JSON path.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { ErrorObject } from 'ajv';
import { ConfigError } from './errors.ts';
import { schemaValidator } from './schema-validator.ts';
import { didYouMean } from './suggest.ts';
import type { Json, JsonObject } from './types.ts';

export { ConfigError } from './errors.ts';

export interface LoadedExperiment {
  name: string;
  file: string;
  config: JsonObject;
}

export function resolveExperimentFile(nameOrFile: string, experimentsDir: string): { name: string; file: string } {
  const looksLikePath = nameOrFile.includes('/') || nameOrFile.endsWith('.json');
  const file = looksLikePath ? path.resolve(nameOrFile) : path.join(experimentsDir, `${nameOrFile}.json`);
  if (!existsSync(file)) {
    const known = existsSync(experimentsDir)
      ? readdirSync(experimentsDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5))
      : [];
    throw new ConfigError(
      `experiment '${nameOrFile}' not found (looked for ${file})${didYouMean(nameOrFile, known)} (known experiments: ${known.join(', ') || 'none'})`,
    );
  }
  return { name: path.basename(file, '.json'), file };
}

/** Keys that would reach an object's prototype: never a config key. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The first problem of a parsed config value: a key that reaches a prototype, or a number that
 * is not finite (JSON's 1e400 parses as Infinity), with its dot path; undefined when clean.
 */
function valueProblem(v: Json, at: string[]): string | undefined {
  if (typeof v === 'number' && !Number.isFinite(v)) return `'${at.join('.')}' is ${v}, not a finite number`;
  if (v === null || typeof v !== 'object') return undefined;
  // One path, pushed and popped (a copy per value cost more than the check for a 100,000-item list).
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (x === null || (typeof x !== 'object' && (typeof x !== 'number' || Number.isFinite(x)))) continue;
      at.push(String(i));
      const p = valueProblem(x, at);
      at.pop();
      if (p) return p;
    }
    return undefined;
  }
  for (const k of Object.keys(v)) {
    if (FORBIDDEN_KEYS.has(k)) return `key '${[...at, k].join('.')}' is not allowed ('__proto__', 'constructor' and 'prototype' are never config keys)`;
    at.push(k);
    const p = valueProblem(v[k]!, at);
    at.pop();
    if (p) return p;
  }
  return undefined;
}

/** `key=value`: value parsed as JSON when it parses, otherwise taken as a string. */
export function parseSetFlag(flag: string): { path: string[]; value: Json } {
  const eq = flag.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set ${flag}: expected key=value, where key is a dot path into the experiment config (e.g. --set section.key=12)`);
  const key = flag.slice(0, eq);
  const raw = flag.slice(eq + 1);
  let value: Json;
  try {
    value = JSON.parse(raw) as Json;
  } catch {
    value = raw;
  }
  const keys = key.split('.');
  const bad = keys.find((k) => FORBIDDEN_KEYS.has(k));
  if (bad !== undefined) throw new ConfigError(`--set ${flag}: key '${bad}' is not allowed ('__proto__', 'constructor' and 'prototype' are never config keys)`);
  const problem = valueProblem(value, keys);
  if (problem) throw new ConfigError(`--set ${flag}: ${problem}`);
  return { path: keys, value };
}

export function getPath(config: Json, dotted: string): Json | undefined {
  let node: Json | undefined = config;
  for (const part of dotted.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as JsonObject)[part];
  }
  return node;
}

function setPath(config: JsonObject, keys: string[], value: Json, flag: string): void {
  let node: JsonObject = config;
  for (const [i, part] of keys.entries()) {
    if (i === keys.length - 1) {
      node[part] = value;
      return;
    }
    // Own keys only: an inherited one (toString, say) is not part of the config.
    const next = Object.hasOwn(node, part) ? node[part] : undefined;
    if (next === undefined) node[part] = {};
    else if (next === null || typeof next !== 'object' || Array.isArray(next))
      throw new ConfigError(`--set ${flag}: '${keys.slice(0, i + 1).join('.')}' is not an object`);
    node = node[part] as JsonObject;
  }
}

function describe(err: ErrorObject, where: string): string {
  const at = err.instancePath || '/';
  let what = err.message ?? 'is invalid';
  if (err.keyword === 'additionalProperties') {
    const unknown = String((err.params as { additionalProperty: string }).additionalProperty);
    const known = Object.keys((err.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    what = `has unknown key '${unknown}'${didYouMean(unknown, known)}`;
  }
  if (err.keyword === 'enum') {
    const allowed = (err.params as { allowedValues: Json[] }).allowedValues;
    const got = String(err.data);
    what = `is ${JSON.stringify(err.data)}; allowed: ${allowed.map((v) => JSON.stringify(v)).join(', ')}${didYouMean(got, allowed.map(String))}`;
  }
  return `${where}: ${at} ${what}`;
}

export function validateExperiment(config: Json, schema: JsonObject, where: string): asserts config is JsonObject {
  // useDefaults: a schema's defaults fill unset keys, so every declared param has a value.
  // Compiled once per schema across commands (schema-validator.ts): generating this schema's
  // validator cost about 50 ms of every command.
  const validate = schemaValidator(schema, { allErrors: true, strict: false, useDefaults: true, verbose: true });
  if (!validate(config)) {
    const lines = (validate.errors ?? []).map((e) => describe(e, where));
    throw new ConfigError(`invalid experiment config:\n  ${lines.join('\n  ')}`);
  }
}

export function loadExperiment(
  nameOrFile: string,
  experimentsDir: string,
  schema: JsonObject,
  sets: string[] = [],
): LoadedExperiment {
  const { name, file } = resolveExperimentFile(nameOrFile, experimentsDir);
  const parsed = readWithExtends(file, experimentsDir, []);
  validateExperiment(parsed, schema, file);
  const config = parsed;
  for (const flag of sets) {
    const { path: keys, value } = parseSetFlag(flag);
    setPath(config, keys, value, flag);
    validateExperiment(config, schema, `--set ${flag}`);
  }
  return { name, file, config };
}

function readJsonFile(file: string): Json {
  let parsed: Json;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const problem = valueProblem(parsed, []);
  if (problem) throw new ConfigError(`${file}: ${problem}`);
  return parsed;
}

/** Objects merge key by key; anything else (lists included) in `over` replaces `base`. */
export function deepMerge(base: Json, over: Json): Json {
  const isObj = (v: Json): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(base) || !isObj(over)) return structuredClone(over);
  const out: JsonObject = structuredClone(base);
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k]!, v) : structuredClone(v);
  return out;
}

/**
 * A config may start `"extends": "quick"` (a name or a path relative to it) and override only what
 * it names; chains are followed, cycles are an error.
 */
function readWithExtends(file: string, experimentsDir: string, seen: string[]): Json {
  if (seen.includes(file)) throw new ConfigError(`${seen[0]}: "extends" forms a cycle: ${[...seen, file].join(' -> ')}`);
  const parsed = readJsonFile(file);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !('extends' in parsed)) return parsed;
  const { extends: parent, ...rest } = parsed;
  if (typeof parent !== 'string') throw new ConfigError(`${file}: /extends must be an experiment name or a path to a JSON file, got ${JSON.stringify(parent)}`);
  const looksLikePath = parent.includes('/') || parent.endsWith('.json');
  const parentFile = looksLikePath ? path.resolve(path.dirname(file), parent) : resolveExperimentFile(parent, experimentsDir).file;
  if (!existsSync(parentFile)) throw new ConfigError(`${file}: /extends: no experiment at ${parentFile}`);
  return deepMerge(readWithExtends(parentFile, experimentsDir, [...seen, file]), rest as Json);
}
