// Reading a fetch task's split from a typed stage context (train and correlate tasks).
import type { TypedContext } from '../../pipeline/engine/define-stage.ts';
import { splitFromBytes, type Split } from './data.ts';

export async function readSplit(ctx: TypedContext<unknown>, split: 'train' | 'test'): Promise<Split> {
  const [images, labels] = [await ctx.bytesOf('fetch', `${split}_images`), await ctx.bytesOf('fetch', `${split}_labels`)];
  return splitFromBytes(images, labels, `${ctx.one('fetch').id} ${split}`);
}
