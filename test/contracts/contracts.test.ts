// The artifact contracts are the one source of every schema: schemas/ is generated from them, and
// producer and consumer agree on what is valid.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { defineStage, nestParams, paramKeys } from '../../pipeline/engine/define-stage.ts';
import { generatedSchemas } from '../../tools/schemas.ts';
import { project } from '../../stages/wiring/project.ts';

const validator = (schema: object) => new Ajv({ allErrors: true, strict: false, useDefaults: true }).compile(schema);

describe('artifact contracts', () => {
  it('schemas/*.schema.json are exactly what the contracts generate (make schemas)', () => {
    for (const [file, text] of Object.entries(generatedSchemas()))
      assert.equal(fs.readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8'), text, `schemas/${file} is stale: run make schemas`);
  });

  it('the experiment schema rejects fit.bootstrap 0, which the fitter cannot use', () => {
    const validate = validator(project.experimentSchema);
    const base = { datasets: ['mnist'], a1: { datasets: ['mnist'], activations: ['relu'], depths: [1], widths: [8], seeds: [0] }, a2: { widths: [8], seeds: [0], alphas: [0] } };
    assert.ok(validate(structuredClone(base)), JSON.stringify(validate.errors));
    assert.equal(validate({ ...structuredClone(base), fit: { bootstrap: 0 } }), false);
    assert.match(JSON.stringify(validate.errors), /bootstrap/);
  });

  it('the experiment schema fills every default a stage declares as a param', () => {
    const config = { datasets: ['mnist'], a1: { datasets: ['mnist'], activations: ['relu'], depths: [1], widths: [8], seeds: [0] }, a2: { widths: [8], seeds: [0], alphas: [0] } };
    assert.ok(validator(project.experimentSchema)(config));
    for (const stage of project.stages) {
      for (const key of stage.params) {
        const value = key.split('.').reduce<unknown>((node, k) => (node as Record<string, unknown> | undefined)?.[k], config);
        assert.notEqual(value, undefined, `${stage.name} declares ${key}, but a minimal config leaves it unset`);
      }
    }
  });
});

describe('defineStage', () => {
  const decl = { a1: Type.Object({ lr: Type.Number(), steps: Type.Integer() }), correlate: { atEnd: Type.Boolean() }, description: Type.String() };

  it('derives the cache-key params from the declaration', () => {
    assert.deepEqual(paramKeys(decl), ['a1.lr', 'a1.steps', 'correlate.atEnd', 'description']);
  });

  it('hands run() the values nested as declared', async () => {
    const flat = { 'a1.lr': 0.5, 'a1.steps': 3, 'correlate.atEnd': true, description: 'x' };
    assert.deepEqual(nestParams(decl, flat), { a1: { lr: 0.5, steps: 3 }, correlate: { atEnd: true }, description: 'x' });
    let seen: unknown;
    const stage = defineStage({ name: 's', module: import.meta.url, params: decl, async run(ctx) { seen = ctx.params.a1.lr * ctx.params.a1.steps; } });
    assert.deepEqual(stage.params, paramKeys(decl));
    await stage.run({ params: flat, inputs: {} } as never);
    assert.equal(seen, 1.5);
  });
});

describe('output validation', () => {
  it('two stages may declare equal schemas with the same $id as distinct objects (train-a1 and train-a2 do)', async () => {
    const { validatorFor } = await import('../../pipeline/engine/task-context.ts');
    const { jsonSchema } = await import('../../stages/contracts/common.ts');
    const { TrainResultSchema } = await import('../../stages/contracts/train-result.ts');
    const a = validatorFor(jsonSchema(TrainResultSchema));
    const b = validatorFor(jsonSchema(TrainResultSchema));
    assert.equal(a, b);
    assert.equal(a({}), false);
  });
});

describe('experiment config errors', () => {
  it('a value outside a fixed set gets one line naming the allowed values and the nearest', async () => {
    const { validateExperiment } = await import('../../pipeline/engine/config.ts');
    const config = { datasets: ['mnist'], a1: { datasets: ['mnist'], activations: ['gelus'], depths: [1], widths: [8], seeds: [0] }, a2: { widths: [8], seeds: [0], alphas: [0] } };
    assert.throws(() => validateExperiment(config, project.experimentSchema, 'x.json'), (e: Error) => {
      const lines = e.message.split('\n').filter((l) => l.includes('/a1/activations/0'));
      assert.equal(lines.length, 1, e.message);
      assert.match(lines[0]!, /is "gelus"; allowed: "relu", "erf", "sigmoid", "gelu"; did you mean: gelu/);
      return true;
    });
  });
});
