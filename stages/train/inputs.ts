// Reading a fetch task's split from a typed stage context (train and correlate tasks).
import type { TypedContext } from '../../pipeline/engine/define-stage.ts';
import { fetchStage } from '../fetch/index.ts';
import { splitFromBytes, type Split } from './data.ts';

export async function readSplit(ctx: Pick<TypedContext<unknown>, 'bytesOf' | 'one'>, split: 'train' | 'test'): Promise<Split> {
  const [images, labels] = [await ctx.bytesOf(fetchStage, `${split}_images`), await ctx.bytesOf(fetchStage, `${split}_labels`)];
  return splitFromBytes(images, labels, `${ctx.one(fetchStage).id} ${split}`);
}
