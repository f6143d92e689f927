import assert from 'node:assert/strict';
import { gunzipBytes, parseIdx, checkLabels } from '../../stages/fetch/idx.ts';
import { parseCifarFiles, cifarRecordCount } from '../../stages/fetch/cifar.ts';
import { FetchError } from '../../stages/fetch/errors.ts';
import { cifarRecords, gz, idxBytes, makeImages, rejects } from './helpers.ts';

describe('fetch: idx parser', () => {
  const images = makeImages(3, 28, 28, 7);
  const file = idxBytes(0x803, [3, 28, 28], images);

  it('parses a valid idx3 file', () => {
    const r = parseIdx('x.idx', file, { magic: 0x803, dims: [3, 28, 28] });
    assert.deepEqual(r.dims, [3, 28, 28]);
    assert.deepEqual(Buffer.from(r.data), Buffer.from(images));
  });

  it('rejects a wrong magic number, naming file, expected and actual', () => {
    const bad = Buffer.from(file);
    bad.writeUInt32BE(0x801, 0);
    assert.throws(
      () => parseIdx('imgs.idx', bad, { magic: 0x803 }),
      (e: FetchError) =>
        e.code === 'BAD_MAGIC' && /imgs\.idx/.test(e.message) && /expected 0x00000803/.test(e.message) && /got 0x00000801/.test(e.message),
    );
    const notIdx = Buffer.from(file);
    notIdx[2] = 0x0d; // float type
    assert.throws(() => parseIdx('f.idx', notIdx), (e: FetchError) => e.code === 'BAD_MAGIC' && /f\.idx/.test(e.message));
  });

  it('checks header dims against the catalog', () => {
    assert.throws(
      () => parseIdx('d.idx', file, { dims: [4, 28, 28] }),
      (e: FetchError) => e.code === 'BAD_DIMS' && /expected \[4, 28, 28\], got \[3, 28, 28\]/.test(e.message),
    );
  });

  it('checks the payload size against the header (truncated and trailing)', () => {
    assert.throws(
      () => parseIdx('t.idx', file.subarray(0, file.length - 10)),
      (e: FetchError) => e.code === 'BAD_LENGTH' && /expected 2352 B, got 2342 B/.test(e.message) && /truncated/.test(e.message),
    );
    assert.throws(
      () => parseIdx('t.idx', Buffer.concat([file, Buffer.alloc(1)])),
      (e: FetchError) => e.code === 'BAD_LENGTH' && /got 2353 B/.test(e.message) && /trailing/.test(e.message),
    );
    assert.throws(() => parseIdx('h.idx', file.subarray(0, 6)), (e: FetchError) => e.code === 'BAD_LENGTH');
  });

  it('checks the label range', () => {
    assert.throws(
      () => checkLabels('l.idx', Uint8Array.from([1, 2, 10]), 10),
      (e: FetchError) => e.code === 'BAD_LABEL' && /item 2/.test(e.message) && /expected 0\.\.9, got 10/.test(e.message),
    );
  });
});

describe('fetch: gzip decoding', () => {
  it('decodes a gzip buffer', async () => {
    const data = Buffer.from('hello idx');
    assert.deepEqual(await gunzipBytes('a.gz', gz(data)), data);
  });

  it('reports a truncated gzip stream naming the file', async () => {
    const z = gz(makeImages(10, 28, 28, 1));
    const e = await rejects(gunzipBytes('train-images-idx3-ubyte.gz', z.subarray(0, Math.floor(z.length / 2))));
    assert.equal(e.code, 'TRUNCATED_GZIP');
    assert.match(e.message, /train-images-idx3-ubyte\.gz: truncated gzip/);
    assert.match(e.message, new RegExp(`got ${Math.floor(z.length / 2)} B`));
  });

  it('reports a file that is not gzip', async () => {
    const e = await rejects(gunzipBytes('x.gz', Buffer.from('PK\u0003\u0004zipzip')));
    assert.equal(e.code, 'BAD_GZIP');
    assert.match(e.message, /x\.gz: not a gzip file: bad gzip magic: expected 0x1f8b, got 0x504b/);
  });
});

describe('fetch: CIFAR binary parser', () => {
  it('converts planar records to NHWC interleaved RGB', () => {
    const rec = cifarRecords([4, 9], 5);
    const { count, labels, images } = parseCifarFiles([{ label: 'b.bin', bytes: rec, records: 2 }]);
    assert.equal(count, 2);
    assert.deepEqual([...labels], [4, 9]);
    for (const [n, y, x, c] of [
      [0, 0, 0, 0],
      [0, 5, 7, 1],
      [1, 31, 31, 2],
      [1, 12, 3, 0],
    ]) {
      const planar = rec[n * 3073 + 1 + c * 1024 + y * 32 + x];
      assert.equal(images[((n * 32 + y) * 32 + x) * 3 + c], planar, `pixel ${n},${y},${x},${c}`);
    }
  });

  it('concatenates several files in order', () => {
    const a = cifarRecords([1], 1);
    const b = cifarRecords([2, 3], 2);
    const r = parseCifarFiles([
      { label: 'a', bytes: a },
      { label: 'b', bytes: b },
    ]);
    assert.deepEqual([...r.labels], [1, 2, 3]);
  });

  it('rejects a bad record length, naming file, expected and actual', () => {
    const rec = cifarRecords([1, 2], 3);
    assert.throws(
      () => parseCifarFiles([{ label: 'data_batch_1.bin', bytes: rec.subarray(0, rec.length - 1) }]),
      (e: FetchError) =>
        e.code === 'BAD_RECORD_LENGTH' && /data_batch_1\.bin/.test(e.message) && /records of 3073 B/.test(e.message) && /got 6145 B total/.test(e.message),
    );
    assert.throws(() => cifarRecordCount('c100.bin', 3074 * 5), (e: FetchError) => e.code === 'BAD_RECORD_LENGTH' && /CIFAR-100/.test(e.message));
    assert.throws(() => cifarRecordCount('n.bin', 3073 * 2, 3), (e: FetchError) => e.code === 'BAD_LENGTH' && /expected 3, got 2/.test(e.message));
  });

  it('rejects labels outside 0-9', () => {
    const rec = cifarRecords([1, 10], 3);
    assert.throws(
      () => parseCifarFiles([{ label: 'bad.bin', bytes: rec }]),
      (e: FetchError) => e.code === 'BAD_LABEL' && /bad\.bin/.test(e.message) && /record 1/.test(e.message) && /expected 0\.\.9, got 10/.test(e.message),
    );
  });
});
