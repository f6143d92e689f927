// Correction 5 (issue 12): the A.1 sample draw is a random effect of the seed, and train-a1 and
// correlate see the same images for a net.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { correlationSamples } from '../../stages/protocols/a1/correlate/inputs.ts';
import { correlateStage } from '../../stages/protocols/a1/correlate/index.ts';
import { a1Job, a1Samples } from '../../stages/protocols/a1/job.ts';
import { fakeSplit } from '../train/fake-split.ts';

const P = { trainSamples: 12, testSamples: 4, permutationSeed: 0, drawPerSeed: true, zscore: true, steps: 1, lr: 1, logEvery: 1, parameterization: 'ntk' as const, sigmaW: 1, sigmaB: 0.05, lossScale: 0.5, linearization: 'function' as const };
const split = fakeSplit(200, 6, 7);
const pt = (seed: number) => ({ dataset: 'fake', activation: 'erf' as const, depth: 1, width: 4, seed });

describe('protocols/a1: the sample draw per seed', () => {
  it('drawPerSeed: each seed draws its own images; off: every seed shares one draw', () => {
    const a = a1Samples(split, P, 'fake', 0).train.x;
    const b = a1Samples(split, P, 'fake', 1).train.x;
    assert.notDeepEqual(a, b);
    assert.deepEqual(a1Samples(split, P, 'fake', 1).train.x, b, 'deterministic per seed');
    const off = { ...P, drawPerSeed: false };
    assert.deepEqual(a1Samples(split, off, 'fake', 0).train.x, a1Samples(split, off, 'fake', 1).train.x);
  });

  it('train-a1 and correlate see the same images for the same net', () => {
    for (const seed of [0, 3]) {
      const job = a1Job(split, P, pt(seed), { progress: () => {} });
      const X = correlationSamples(split, P, 'fake', seed, P.trainSamples + P.testSamples);
      const dim = split.dim;
      assert.deepEqual(X.x.subarray(0, P.trainSamples * dim), job.finalTrain.x);
      assert.deepEqual(X.x.subarray(P.trainSamples * dim), job.finalTest.x);
    }
  });

  it('correlate reads drawPerSeed (its cache key changes with it), and the CPU/paper configs turn it on', () => {
    assert.ok(correlateStage.params.includes('a1.drawPerSeed'));
    for (const name of ['quick', 'paper-a1', 'ci']) {
      const cfg = JSON.parse(readFileSync(new URL(`../../pipeline/experiments/${name}.json`, import.meta.url), 'utf8'));
      assert.equal(cfg.a1.drawPerSeed, true, `${name}.json: a1.drawPerSeed`);
    }
  });
});
