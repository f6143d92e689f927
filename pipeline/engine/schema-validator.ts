// JSON Schema validators, compiled once per schema and kept as ajv "standalone" code in
// .build/ajv/ of the checkout. Generating a validator's code is most of what ajv spends: every
// command validates the experiment against the project's schema and the stages' params, which cost
// about 70 ms of a `status` (half its own start-up). The kept code is loaded with one Function
// call instead, and ajv itself is loaded only on a miss.
//
// The file name is the hash of (ajv's version, the options, the schema), so a changed schema or ajv
// makes a new file and an edited one is never trusted: its content hash is checked before it runs.
// Where .build/ cannot be written (a read-only checkout) the validator is compiled in memory.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, Options } from 'ajv';
import { canonicalJson, sha256 } from './fingerprint.ts';
import type { Json } from './types.ts';

/** What ajv's compile returns, as far as callers use it. */
export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

export type ValidatorOptions = Pick<Options, 'allErrors' | 'strict' | 'useDefaults' | 'verbose'>;

// A require bound to this file: ajv and its runtime helpers resolve from the checkout's
// node_modules whether this runs bundled or from source.
const requireHere = createRequire(import.meta.url);
const CACHE_DIR = path.join(fileURLToPath(new URL('../..', import.meta.url)), '.build', 'ajv');

const compiled = new Map<string, SchemaValidator>();
let ajvVersion: string | undefined;

/** The validator of `schema` with ajv `options` (validateSchema off, no optimization pass). */
export function schemaValidator(schema: object, options: ValidatorOptions = {}, dir = CACHE_DIR): SchemaValidator {
  ajvVersion ??= (requireHere('ajv/package.json') as { version: string }).version;
  const id = sha256(canonicalJson({ ajvVersion, options, schema } as unknown as Json));
  const file = keptFile(id, dir);
  let v = compiled.get(file);
  if (!v) compiled.set(file, (v = loadKept(id, file) ?? compileAndKeep(id, file, schema, options)));
  return v;
}

function keptFile(id: string, dir = CACHE_DIR): string {
  return path.join(dir, `${id.slice(0, 32)}.cjs`);
}

/** The kept validator of `id`, when its file is there and unaltered (the code's hash is in its first line). */
function loadKept(id: string, file: string): SchemaValidator | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const nl = text.indexOf('\n');
  const code = text.slice(nl + 1);
  if (nl < 0 || text.slice(0, nl) !== `// ${id} ${sha256(code)}`) return undefined;
  return evaluate(code);
}

function evaluate(code: string): SchemaValidator {
  const module = { exports: {} as unknown };
  // The generated code is CommonJS that requires only ajv's runtime helpers.
  new Function('require', 'module', 'exports', code)(requireHere, module, module.exports);
  return module.exports as SchemaValidator;
}

function compileAndKeep(id: string, file: string, schema: object, options: ValidatorOptions): SchemaValidator {
  const { Ajv } = requireHere('ajv') as typeof import('ajv');
  const standaloneCode = (requireHere('ajv/dist/standalone') as { default: (ajv: unknown, validate: unknown) => string }).default;
  const ajv = new Ajv({ ...options, validateSchema: false, code: { source: true, optimize: false } });
  const validate = ajv.compile(schema);
  const code = standaloneCode(ajv, validate);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `// ${id} ${sha256(code)}\n${code}`);
    renameSync(tmp, file);
  } catch {
    // Not writable here: the in-memory validator serves this process.
  }
  return validate as SchemaValidator;
}
