// The hand-written checks a no-op runs once per task agree with the record schema they stand for,
// and an index line gives back what was written into it, whatever its fields hold.
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { decodeIndexLine, encodeIndexLine } from '../../pipeline/engine/index-lines.ts';
import { checkSummary, isHash, outputsFit, outputsProblem, RecordSummarySchema, type RecordSummary } from '../../pipeline/engine/record.ts';
import type { ContentHash, TaskKey } from '../../pipeline/engine/types.ts';

const key = 'ab'.repeat(32) as TaskKey;
const hash = 'cd'.repeat(32) as ContentHash;
const valid = (): RecordSummary => ({ key, id: 'square@i1', stage: 'square', outputs: { value: { hash, size: 16 }, raw: { hash, size: 0 } }, startedAt: 't0', endedAt: 't1', durationMs: 3.5, host: 'h' });

describe('engine: hand-written record checks', () => {
  it('checkSummary gives the record schema\'s verdict (and the key) on valid and broken summaries', () => {
    const schema = new Ajv({ strict: false }).compile(RecordSummarySchema);
    const broken: [string, (r: Record<string, unknown>) => void][] = [
      ['nothing changed', () => {}],
      ['key of another record', (r) => (r.key = 'ef'.repeat(32))],
      ['key not a hash', (r) => (r.key = '../../etc')],
      ['id a number', (r) => (r.id = 1)],
      ['stage missing', (r) => delete r.stage],
      ['startedAt null', (r) => (r.startedAt = null)],
      ['endedAt missing', (r) => delete r.endedAt],
      ['host an object', (r) => (r.host = {})],
      ['durationMs negative', (r) => (r.durationMs = -1)],
      ['durationMs a string', (r) => (r.durationMs = '3')],
      ['durationMs zero', (r) => (r.durationMs = 0)],
      ['outputs an array', (r) => (r.outputs = [])],
      ['outputs null', (r) => (r.outputs = null)],
      ['outputs empty', (r) => (r.outputs = {})],
      ['an output hash a path', (r) => ((r.outputs as Record<string, { hash: string }>).value!.hash = '../../victim')],
      ['an output hash upper case', (r) => ((r.outputs as Record<string, { hash: string }>).value!.hash = hash.toUpperCase())],
      ['an output size fractional', (r) => ((r.outputs as Record<string, { size: number }>).value!.size = 1.5)],
      ['an output size negative', (r) => ((r.outputs as Record<string, { size: number }>).value!.size = -1)],
      ['an output size missing', (r) => delete (r.outputs as Record<string, { size?: number }>).value!.size],
      ['an output an array', (r) => ((r.outputs as Record<string, unknown>).value = [hash, 1])],
      ['an output named __proto__ (as JSON.parse makes it)', (r) => (r.outputs = JSON.parse(`{"__proto__":{"hash":"${hash}","size":1}}`))],
      ['a field more', (r) => (r.extra = 1)],
      ['an output with a field more', (r) => ((r.outputs as Record<string, Record<string, unknown>>).value!.extra = 1)],
    ];
    for (const [what, change] of broken) {
      const r = valid() as unknown as Record<string, unknown>;
      change(r);
      const expected = schema(r) && r.key === key;
      assert.equal(checkSummary(r, key) !== undefined, expected, what);
    }
    assert.equal(checkSummary(null, key), undefined);
    assert.equal(checkSummary([valid()], key), undefined);
  });

  it('isHash is HASH_RE, and outputsFit agrees with outputsProblem', () => {
    for (const s of [hash, key, hash.slice(1), `${hash}0`, hash.replace('c', 'g'), hash.toUpperCase(), '', 'a'.repeat(64), `${'a'.repeat(63)}/`, 5, undefined])
      assert.equal(isHash(s), typeof s === 'string' && /^[0-9a-f]{64}$/.test(s), String(s));
    const stage = { name: 'square', outputs: { value: { kind: 'json' as const }, raw: { kind: 'bytes' as const, optional: true } } };
    for (const outputs of [{ value: 1 }, { value: 1, raw: 1 }, { raw: 1 }, {}, { value: 1, other: 1 }])
      assert.equal(outputsFit({ outputs } as never, stage), outputsProblem({ stage: 'square', outputs } as never, stage) === undefined, JSON.stringify(outputs));
  });

  it('an index line gives back its entry, whatever its id, host or output names hold', () => {
    for (const id of ['square@i1', 'a\tb', 'line\nbreak', '"quoted"', 'back\\slash', '', 'é😀', 'cr\r'])
      for (const known of [undefined, { sig: '1:2:3.25:4.5', record: { ...valid(), id, host: id, outputs: { [id || 'v']: { hash, size: 1 }, x: { hash, size: 2 } } } }]) {
        const entry = { id, key, ...(known ? { known } : {}) };
        const line = encodeIndexLine(entry);
        assert.equal(line.indexOf('\n'), line.length - 1, JSON.stringify(line));
        assert.deepEqual(decodeIndexLine(line.slice(0, -1)), entry, JSON.stringify(line));
      }
    // Broken lines: nothing, or the key without the summary.
    const good = encodeIndexLine({ id: 'i', key, known: { sig: 's', record: { ...valid(), id: 'i' } } }).slice(0, -1);
    assert.equal(decodeIndexLine(''), undefined);
    assert.equal(decodeIndexLine('i\t../../etc'), undefined);
    assert.equal(decodeIndexLine('"unterminated\tx'), undefined);
    assert.deepEqual(decodeIndexLine(good.replace('\t3.5\t', '\t-1\t')), { id: 'i', key });
    assert.deepEqual(decodeIndexLine(good.replace(`\t${hash}\t16`, `\t../x\t16`)), { id: 'i', key });
    assert.deepEqual(decodeIndexLine(good.slice(0, -2)), { id: 'i', key }, 'cut short');
  });
});
