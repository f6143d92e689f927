// Store.lookup: one call gives a usable record or the reason there is none; the store verifies
// blobs and, when asked to repair, sets bad records and corrupt blobs aside itself.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Planner } from '../../pipeline/engine/planner.ts';
import { CorruptBlobError, Store, type TaskRecord } from '../../pipeline/engine/store.ts';
import type { Project, TaskKey } from '../../pipeline/engine/types.ts';

describe('store: lookup is a hit or a miss with its reason', () => {
  let dir: string;
  let store: Store;
  const key = 'a'.repeat(64) as TaskKey;
  const stage = { name: 's', outputs: { v: { kind: 'json' as const } } };

  async function recordWith(value: unknown): Promise<TaskRecord> {
    const out = await store.blobs.putJson(value as never);
    const record: TaskRecord = {
      key, id: 's', stage: 's', experiment: 'e', axes: {}, params: {}, inputs: {}, code: 'c', runtime: {},
      outputs: { v: out }, startedAt: '', endedAt: '', durationMs: 0, host: 'h', versions: {}, logs: [], status: 'ok',
    };
    await store.records.write(record);
    return record;
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-lookup-'));
    store = new Store(dir);
    await store.init();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('absent, hit, missing blob, corrupt blob (set aside on repair), bad record (set aside on repair)', async () => {
    assert.deepEqual(await store.lookup(key), { hit: false, miss: { why: 'absent' } });
    const record = await recordWith({ x: 1 });
    const hit = await store.lookup(key, { stage });
    assert.ok(hit.hit && hit.record.key === key);

    const other = await store.lookup(key, { stage: { name: 't', outputs: stage.outputs } });
    assert.ok(!other.hit && other.miss.why === 'bad-record' && /record of stage 's'/.test(other.miss.problem));

    const blob = store.blobs.path(record.outputs.v!.hash);
    fs.writeFileSync(blob, 'flipped');
    const fresh = new Store(dir); // a new process: nothing verified yet
    const corrupt = await fresh.lookup(key, { stage });
    assert.ok(!corrupt.hit && corrupt.miss.why === 'corrupt-blob' && !corrupt.miss.setAside);
    assert.ok(fs.existsSync(blob), 'nothing changes without repair');
    const repaired = await fresh.lookup(key, { stage, repair: true });
    assert.ok(!repaired.hit && repaired.miss.why === 'corrupt-blob' && repaired.miss.setAside);
    assert.ok(!fs.existsSync(blob) && fs.existsSync(repaired.miss.setAside));
    const missing = await fresh.lookup(key, { stage });
    assert.ok(!missing.hit && missing.miss.why === 'missing-blob' && missing.miss.output === 'v');

    fs.writeFileSync(store.records.where(key), '{"key":"oops"}\n');
    const bad = await store.lookup(key, { repair: true });
    assert.ok(!bad.hit && bad.miss.why === 'bad-record' && bad.miss.setAside && fs.existsSync(bad.miss.setAside));
    assert.deepEqual(await store.lookup(key), { hit: false, miss: { why: 'absent' } });
  });

  it('indexed lookups and verified.tsv: a record or blob changed on disk after it was indexed or verified is still caught', async () => {
    const record = await recordWith({ x: 1 });
    const first = await store.lookupIndexed(key, 'e', { stage });
    assert.ok(first.hit && first.record.outputs.v!.hash === record.outputs.v!.hash);
    store.flush();
    const index = path.join(dir, 'index/e/tasks.tsv');
    assert.match(fs.readFileSync(index, 'utf8'), new RegExp(key));
    assert.match(fs.readFileSync(path.join(dir, 'verified.tsv'), 'utf8'), new RegExp(record.outputs.v!.hash));
    // A new process answers from the index and verified.tsv, without waiting (lookupNow) too...
    const again = await new Store(dir).lookupIndexed(key, 'e', { stage });
    assert.ok(again.hit);
    const now = new Store(dir).lookupNow(key, 'e', stage);
    assert.ok(now?.hit && now.record.outputs.v!.hash === record.outputs.v!.hash);
    assert.deepEqual(new Store(dir).lookupNow('b'.repeat(64), 'e', stage), { hit: false, miss: { why: 'absent' } });
    // lookupNow looks at no blob's bytes (they are checked where a task reads them): a blob whose
    // bytes changed, even to the same size, is still a hit there; lookupIndexed (run --verify)
    // sees its changed stat signature and hashes it; a blob gone is not in objects/.
    const blob = store.blobs.path(record.outputs.v!.hash);
    const size = fs.statSync(blob).size;
    fs.writeFileSync(blob, 'z'.repeat(size));
    assert.ok(new Store(dir).lookupNow(key, 'e', stage)?.hit, 'bytes are not read by lookupNow');
    assert.ok((await new Store(dir).blobs.verify(record.outputs.v!.hash)) instanceof CorruptBlobError, 'verify, as before a task reads it, hashes it');
    const corrupt = await new Store(dir).lookupIndexed(key, 'e', { stage });
    assert.ok(!corrupt.hit && corrupt.miss.why === 'corrupt-blob');
    const moved = `${blob}.away`;
    fs.renameSync(blob, moved);
    assert.equal(new Store(dir).lookupNow(key, 'e', stage), undefined, 'a blob not in objects/ is looked up in full');
    fs.renameSync(moved, blob);
    // A record edited after it was indexed is read and validated in full again.
    fs.writeFileSync(blob, `${JSON.stringify({ x: 1 }, null, 1)}\n`);
    fs.writeFileSync(store.records.where(key), '{"key":"oops"}\n');
    assert.equal(new Store(dir).lookupNow(key, 'e', stage), undefined, 'not answered without reading the record');
    const bad = await new Store(dir).lookupIndexed(key, 'e', { stage });
    assert.ok(!bad.hit && bad.miss.why === 'bad-record');
    // Hostile index lines (a hash that is not one, a path for an output's hash, an output named
    // __proto__) are skipped, never a path: the record is read in full instead.
    await store.records.write(record);
    const sig = store.records.sig(key)!;
    const fields = (id: string, k: string, out: string[]): string => [id, k, sig, 's', 'a', 'b', '0', 'h', ...out].join('\t');
    fs.appendFileSync(index, `${fields('s', '../../etc', ['v', record.outputs.v!.hash, '1'])}\n${fields('s', key, ['v', '../../victim', '1'])}\n${fields('s', key, ['__proto__', record.outputs.v!.hash, '1'])}\n`);
    const fresh = new Store(dir);
    assert.equal(await fresh.index.key('e', 's'), key);
    const known = fresh.index.known('e', key);
    assert.ok(!known || (known.sig !== sig && known.record.outputs.v!.hash === record.outputs.v!.hash), 'only the line written before the record changed');
    assert.equal(fresh.lookupNow(key, 'e', stage), undefined);
    assert.ok((await fresh.lookupIndexed(key, 'e', { stage })).hit, 'read in full');
  });

  it('an index of an older engine (tasks.jsonl) is read, and written as tasks.tsv by the next writer', async () => {
    const record = await recordWith({ x: 3 });
    const sig = store.records.sig(key)!;
    const summary = { key, id: 's', stage: 's', outputs: record.outputs, startedAt: '', endedAt: '', durationMs: 0, host: 'h' };
    fs.mkdirSync(path.join(dir, 'index/e'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'index/e/tasks.jsonl'), `${JSON.stringify({ id: 's', key, sig, record: summary })}\n{"id":"t","key":"../x"}\n`);
    const reader = new Store(dir, { readOnly: true });
    assert.deepEqual(reader.index.known('e', key), { sig, record: summary });
    assert.ok(reader.lookupNow(key, 'e', stage)?.hit);
    const writer = new Store(dir);
    assert.equal(await writer.index.key('e', 's'), key);
    writer.flush();
    const tsv = fs.readFileSync(path.join(dir, 'index/e/tasks.tsv'), 'utf8');
    assert.equal(tsv.trim().split('\n').length, 1, tsv);
    assert.deepEqual(new Store(dir).index.known('e', key), { sig, record: summary });
  });

  it('the planner tells each miss once as a diagnostic; the store keeps none', async () => {
    await recordWith({ x: 2 });
    fs.writeFileSync(store.records.where(key), 'not json');
    const project: Project = { name: 'toy', module: '', root: dir, stages: [], experimentsDir: dir, defaultExperiment: 'e', experimentSchema: {}, cacheEnvVar: 'TOY_CACHE', defaultCacheDir: '.cache' };
    const planner = new Planner(project, store, { name: 'e', base: 'e', overrides: {} });
    const heard: string[] = [];
    planner.diagnostics.subscribe((m) => heard.push(m));
    await planner.lookup(key, 's');
    await planner.lookup(key, 's');
    assert.equal(heard.length, 1);
    assert.match(heard[0]!, /invalid task record .*: not valid JSON .*; set aside in .*quarantine\/ and recomputed/);
    assert.deepEqual(planner.warnings, heard);
    assert.ok(!('warnings' in store));
  });
});
