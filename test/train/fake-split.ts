// A deterministic fake image split (LCG pixels, labels i mod 10) for training tests.
import { splitFromBytes } from '../../stages/train/data.ts';

export function fakeSplit(count: number, dim: number, seed = 1): ReturnType<typeof splitFromBytes> {
  const images = new Uint8Array(count * dim);
  let s = seed;
  for (let i = 0; i < images.length; i++) images[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return splitFromBytes(images, labels, 'fake');
}
