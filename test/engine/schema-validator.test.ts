// The kept (standalone) validators behave as ajv's in-memory compile does, and a kept file that was
// altered is not run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { schemaValidator } from '../../pipeline/engine/schema-validator.ts';

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    widths: { type: 'array', items: { type: 'integer', minimum: 1 }, default: [64] },
    kind: { enum: ['a', 'b'] },
    nested: { type: 'object', properties: { x: { type: 'number', default: 1.5 } }, default: {} },
  },
};
const OPTIONS = { allErrors: true, strict: false, useDefaults: true, verbose: true };
const INPUTS: unknown[] = [
  { name: 'x' },
  { name: '' },
  { name: 'x', widths: [0, 2.5, 3] },
  { name: 'x', kind: 'c', extra: 1 },
  { widths: 'no' },
  { name: 'y', nested: {} },
  [],
  null,
];

function reference(data: unknown): { ok: boolean; data: unknown; errors: unknown } {
  const v = new Ajv({ ...OPTIONS, validateSchema: false }).compile(SCHEMA);
  const copy = structuredClone(data);
  const ok = v(copy);
  return { ok, data: copy, errors: v.errors?.map((e) => [e.instancePath, e.keyword, e.params, e.message, e.parentSchema]) ?? null };
}

describe('engine: schema validators kept across commands', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-ajv-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a kept validator answers, fills defaults and reports errors (verbose) as an in-memory compile does', () => {
    const first = schemaValidator(SCHEMA, OPTIONS, dir);
    const files = fs.readdirSync(dir);
    assert.equal(files.length, 1, 'one kept file per schema');
    // A second directory name forces the load path: copy the kept file over and read it from there.
    const again = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-ajv-'));
    try {
      fs.copyFileSync(path.join(dir, files[0]!), path.join(again, files[0]!));
      const loaded = schemaValidator(SCHEMA, OPTIONS, again);
      assert.notEqual(loaded, first, 'the copy was loaded, not compiled again in memory');
      assert.deepEqual(fs.readdirSync(again), files, 'nothing was compiled into the second folder');
      for (const input of INPUTS) {
        const want = reference(input);
        for (const v of [first, loaded]) {
          const copy = structuredClone(input);
          assert.equal(v(copy), want.ok, JSON.stringify(input));
          assert.deepEqual(copy, want.data, `defaults of ${JSON.stringify(input)}`);
          assert.deepEqual(v.errors?.map((e) => [e.instancePath, e.keyword, e.params, e.message, e.parentSchema]) ?? null, want.errors);
        }
      }
    } finally {
      fs.rmSync(again, { recursive: true, force: true });
    }
  });

  it('a kept file whose code was altered is not run: the schema is compiled again and the file rewritten', () => {
    schemaValidator(SCHEMA, { allErrors: true }, dir);
    const [file] = fs.readdirSync(dir);
    const p = path.join(dir, file!);
    const text = fs.readFileSync(p, 'utf8');
    // A validator that accepts everything, behind the original first line.
    fs.writeFileSync(p, `${text.split('\n')[0]}\nmodule.exports = () => true;\n`);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-ajv-'));
    try {
      fs.copyFileSync(p, path.join(other, file!));
      const v = schemaValidator(SCHEMA, { allErrors: true }, other);
      assert.equal(v({ widths: 'no' }), false, 'the altered code did not run');
      assert.equal(fs.readFileSync(path.join(other, file!), 'utf8'), text, 'the file was rewritten with the compiled code');
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('different options or schemas are different files; an unwritable folder still validates', () => {
    schemaValidator(SCHEMA, { allErrors: true }, dir);
    schemaValidator(SCHEMA, { allErrors: false }, dir);
    schemaValidator({ ...SCHEMA, required: [] }, { allErrors: true }, dir);
    assert.equal(fs.readdirSync(dir).length, 3);
    const blocked = path.join(dir, 'file');
    fs.writeFileSync(blocked, '');
    const v = schemaValidator({ type: 'integer' }, {}, path.join(blocked, 'sub'));
    assert.equal(v(3), true);
    assert.equal(v(3.5), false);
  });
});
