// readSplit keeps a split it read for the next task of the process, by the content hashes of its
// blobs: the same hashes read nothing again, other hashes read afresh, and the oldest go first.
import assert from 'node:assert/strict';
import { readSplit } from '../../stages/train/inputs.ts';

type Ctx = Parameters<typeof readSplit>[0];

function fakeCtx(hashes: { images: string; labels: string }, count: number, dim: number, reads: string[]): Ctx {
  const outputs = {
    train_images: { hash: hashes.images, size: count * dim },
    train_labels: { hash: hashes.labels, size: count },
  };
  return {
    one: () => ({ id: 'fetch@toy', stage: 'fetch', axes: {}, outputs }),
    bytesOf: async (_stage: unknown, output: string) => {
      reads.push(`${output}:${(outputs as Record<string, { hash: string }>)[output]!.hash}`);
      return Buffer.alloc(output.endsWith('images') ? count * dim : count, output.endsWith('images') ? 7 : 1);
    },
  } as unknown as Ctx;
}

describe('train: readSplit keeps what the process read', () => {
  it('reads a split once per pair of blob hashes, and again for other hashes', async () => {
    const reads: string[] = [];
    const a = { images: 'a'.repeat(64), labels: 'b'.repeat(64) };
    const first = await readSplit(fakeCtx(a, 10, 4, reads), 'train');
    const again = await readSplit(fakeCtx(a, 10, 4, reads), 'train');
    assert.equal(again, first, 'the same split object');
    assert.deepEqual(reads, [`train_images:${a.images}`, `train_labels:${a.labels}`]);
    assert.deepEqual([first.count, first.dim, first.images[0], first.labels[0]], [10, 4, 7, 1]);
    const other = await readSplit(fakeCtx({ images: 'c'.repeat(64), labels: a.labels }, 10, 4, reads), 'train');
    assert.notEqual(other, first);
    assert.equal(reads.length, 4, 'another images blob is read');
  });

  it('keeps at most 320 MiB: the least recently used split goes first', async () => {
    const reads: string[] = [];
    const big = (c: string) => ({ images: c.repeat(64), labels: `${c}l`.repeat(32) });
    const dim = 1024 * 1024; // 100 images of 1 MiB: 100 MiB a split
    await readSplit(fakeCtx(big('d'), 100, dim, reads), 'train');
    await readSplit(fakeCtx(big('e'), 100, dim, reads), 'train');
    await readSplit(fakeCtx(big('d'), 100, dim, reads), 'train'); // d used last: e is now the oldest
    await readSplit(fakeCtx(big('f'), 100, dim, reads), 'train'); // 300 MiB: all three fit
    await readSplit(fakeCtx(big('g'), 100, dim, reads), 'train'); // 400 MiB: e goes
    assert.equal(reads.length, 8);
    await readSplit(fakeCtx(big('d'), 100, dim, reads), 'train');
    assert.equal(reads.length, 8, 'd was kept');
    await readSplit(fakeCtx(big('e'), 100, dim, reads), 'train');
    assert.equal(reads.length, 10, 'e was dropped and is read again');
  });
});
