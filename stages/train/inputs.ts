// Reading a fetch task's split from a typed stage context (train and correlate tasks).
import { LRUCache } from 'lru-cache';
import type { TypedContext } from '../../pipeline/engine/define-stage.ts';
import { fetchStage } from '../fetch/index.ts';
import { splitFromBytes, type Split } from './data.ts';

// A worker process runs task after task on the same dataset. A split it has read (the engine
// verified both blobs against their content hashes on that read) is kept, by those hashes, for
// the next task of this process: no second read and hash of 47-150 MB per task. Splits are read
// only (gatherScaled copies rows out). Bounded: the most recently used splits up to 320 MiB.
const kept = new LRUCache<string, Split>({ maxSize: 320 * 1024 * 1024, sizeCalculation: (s) => s.images.length + s.labels.length });

export async function readSplit(ctx: Pick<TypedContext<unknown>, 'bytesOf' | 'one'>, split: 'train' | 'test'): Promise<Split> {
  const outputs = ctx.one(fetchStage).outputs;
  const key = `${outputs[`${split}_images`]?.hash}/${outputs[`${split}_labels`]?.hash}`;
  const had = kept.get(key);
  if (had) return had;
  const [images, labels] = [await ctx.bytesOf(fetchStage, `${split}_images`), await ctx.bytesOf(fetchStage, `${split}_labels`)];
  const s = splitFromBytes(images, labels, `${ctx.one(fetchStage).id} ${split}`);
  kept.set(key, s);
  return s;
}
