import assert from 'node:assert/strict';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { accuracy, eq24, lossDifference, mseBetween, mseLossValue, outputsOf, stepFlops } from '../../stages/train/metrics.ts';
import { oneHot, permutation, sgdBatches, zscoreInPlace } from '../../stages/train/data.ts';
import { trainSideBySide } from '../../stages/train/loop.ts';
import { a1Job, a1Samples } from '../../stages/protocols/a1/job.ts';
import { a2Job, a2LearningRate } from '../../stages/protocols/a2/job.ts';
import { fakeSplit } from './fake-split.ts';


const A1 = { trainSamples: 24, testSamples: 8, permutationSeed: 0, drawPerSeed: true, steps: 5, lr: 0.5, logEvery: 2, parameterization: 'ntk' as const, sigmaW: 1, sigmaB: 0.05, lossScale: 0.5, zscore: true, linearization: 'function' as const };

describe('train: data and metrics', () => {
  before(async () => {
    await selectBackend('wasm', { log: () => {} });
  });

  it('permutations are deterministic permutations; SGD batches drop the last partial batch and reshuffle per epoch', () => {
    const p = permutation(1000, 7);
    assert.deepEqual([...p].sort((a, b) => a - b), [...Array(1000).keys()]);
    assert.deepEqual(p, permutation(1000, 7));
    assert.notDeepEqual(p, permutation(1000, 8));
    const it = sgdBatches(10, 4, 3);
    const epoch0 = [it.next().value!, it.next().value!].map((b) => [...b]);
    const epoch1 = [it.next().value!, it.next().value!].map((b) => [...b]);
    assert.equal(new Set(epoch0.flat()).size, 8, 'two batches of 4 from 10, no repeats, 2 dropped');
    assert.notDeepEqual(epoch0, epoch1);
    assert.throws(() => sgdBatches(3, 4, 0).next(), /batch 4 is larger than the 3 training images/);
  });

  it('Eq. 24 and Eq. 30 match their closed forms', () => {
    const f = new Float32Array(20).fill(1);
    const g = new Float32Array(20).fill(1);
    g[3] = 4; // one entry off by 3
    assert.equal(eq24(f, g), Math.sqrt(9) / (10 * 2));
    assert.equal(mseBetween(f, g), 9 / 2);
  });

  it('the loss gap from the difference-form pair equals L(f) - L(f_lin), without their cancellation', () => {
    const n = 40;
    const f0 = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1));
    const y = Float32Array.from({ length: n }, (_, i) => (i % 10 === 3 ? 1 : 0));
    const df = Float32Array.from({ length: n }, (_, i) => 1e-3 * Math.cos(3 * i));
    const dlin = Float32Array.from(df, (v, i) => v + 1e-9 * Math.sin(7 * i));
    const d = { f0, df, dlin };
    const want = mseLossValue(outputsOf(f0, df), y, 0.5) - mseLossValue(outputsOf(f0, dlin), y, 0.5);
    assert.ok(Math.abs(lossDifference(d, y, 0.5) - want) <= 1e-6 * Math.abs(want), `${lossDifference(d, y, 0.5)} vs ${want}`);
    // float32 outputs subtracted as two losses cannot see a 1e-9 change: the loss gap would be rounding
    const f32 = (a: Float64Array): Float32Array => Float32Array.from(a);
    const plain = mseLossValue(f32(outputsOf(f0, df)), y, 0.5) - mseLossValue(f32(outputsOf(f0, dlin)), y, 0.5);
    assert.ok(Math.abs(plain - want) > 0.1 * Math.abs(want), `plain ${plain} vs ${want}`);
  });

  it('test accuracy is argmax vs the one-hot label', () => {
    const y = new Float32Array(30);
    y[2] = 1; y[10 + 7] = 1; y[20 + 0] = 1;
    const f = new Float32Array(30);
    f[2] = 0.9; f[10 + 3] = 0.5; f[20 + 0] = 0.1; // right, wrong, right (the rest are 0)
    assert.equal(accuracy(f, y), 2 / 3);
  });

  it('z-scores to mean 0 / std 1, and one-hot rows hold one 1', () => {
    const x = Float32Array.from([1, 2, 3, 4]);
    const { mean, std } = zscoreInPlace(x);
    assert.equal(mean, 2.5);
    assert.ok(Math.abs(std - Math.sqrt(1.25)) < 1e-12);
    assert.ok(Math.abs(x.reduce((a, b) => a + b, 0)) < 1e-6);
    const y = oneHot(fakeSplit(20, 4), [3, 13]);
    assert.deepEqual([...y.subarray(0, 10)], [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.equal(y.reduce((a, b) => a + b, 0), 2);
  });

  it('A.1 draws a fixed, disjoint train/test sample; too few images is a clear error', () => {
    const split = fakeSplit(100, 16);
    const a = a1Samples(split, A1, 'fake', 0);
    const b = a1Samples(split, A1, 'fake', 0);
    assert.deepEqual(a.train.x, b.train.x);
    assert.equal(a.train.count, 24);
    assert.equal(a.test.count, 8);
    assert.throws(() => a1Samples(fakeSplit(20, 16), A1, 'tiny', 0), /a1.trainSamples \+ a1.testSamples = 32, but tiny's train split has only 20 images/);
    assert.throws(() => a2Job(split, fakeSplit(50, 16), { lr0: 0.1, steps: 1, batch: 8, testSize: 60, activation: 'gelu', depth: 2, lossScale: 1, logEvery: 1 }, { width: 8, seed: 0, alpha: 0 }, { progress: () => {} }), /a2.testSize is 60, but the MNIST test split has only 50 images/);
    assert.equal(a2LearningRate(0.1, 256, -0.5), 0.1 / 16);
  });

  it('counts matmul FLOPs per side-by-side step', () => {
    // sizes 4 -> 3 -> 2, batch 5: first layer 5 matmuls of 2*5*4*3, second 8 of 2*5*3*2
    assert.equal(stepFlops([4, 3, 2], 5), 5 * 120 + 8 * 60);
  });

  it('gives the event loop a turn every step, so heartbeats and SIGTERM run during training', async () => {
    const split = fakeSplit(64, 16);
    let ticks = 0;
    let running = true;
    const tick = (): void => { if (running) { ticks++; setImmediate(tick); } };
    setImmediate(tick);
    const out = await trainSideBySide(a1Job(split, { ...A1, steps: 20 }, { dataset: 'fake', activation: 'erf', depth: 1, width: 8, seed: 1 }, { progress: () => {} }));
    running = false;
    assert.equal(out.stepsDone, 20);
    assert.ok(ticks >= 20, `only ${ticks} event-loop turn(s) in 20 steps`);
  });

  it('trains side by side: logs, final metrics, no leaked tensors; a huge learning rate is recorded as diverged', async () => {
    const split = fakeSplit(64, 16);
    const before = tf.memory().numTensors;
    const ok = await trainSideBySide(a1Job(split, A1, { dataset: 'fake', activation: 'erf', depth: 2, width: 32, seed: 1 }, { progress: () => {} }));
    assert.equal(tf.memory().numTensors, before);
    assert.equal(ok.status, 'ok');
    assert.equal(ok.stepsDone, 5);
    assert.deepEqual(ok.log.map((r) => r.step), [0, 2, 4]);
    assert.ok(ok.final!.mseTest > 0 && ok.final!.eq24Train > 0);
    assert.ok(ok.final!.trainLossNet < ok.log[0]!.lossNet, 'training reduced the loss');
    // Step 0: f_lin = f exactly. A.1 is full batch, so the batch discrepancy (before step s's
    // update) is Eq. 24 on the train samples (logged after step s-1's update) rescaled:
    // mseBatch(s) = (10 n eq24Train(s - 1))^2 / n.
    assert.equal(ok.log[0]!.mseBatch, 0);
    const every = await trainSideBySide(a1Job(split, { ...A1, logEvery: 1 }, { dataset: 'fake', activation: 'erf', depth: 2, width: 32, seed: 1 }, { progress: () => {} }));
    for (let k = 1; k < every.log.length; k++) {
      const got = every.log[k]!.mseBatch;
      const want = (10 * 24 * every.log[k - 1]!.eq24Train) ** 2 / 24;
      assert.ok(got > 0 && Math.abs(got - want) <= 1e-6 * want, `step ${k}: mseBatch ${got} vs ${want}`);
    }
    for (const acc of [ok.final!.testAccNet, ok.final!.testAccLin]) assert.ok(acc >= 0 && acc <= 1 && Number.isInteger(acc * 8), `accuracy ${acc} on 8 test samples`);
    const bad = await trainSideBySide(a1Job(split, { ...A1, lr: 1e12, steps: 50 }, { dataset: 'fake', activation: 'relu', depth: 2, width: 32, seed: 1 }, { progress: () => {} }));
    assert.equal(bad.status, 'diverged');
    assert.equal(bad.final, null);
    assert.ok(bad.stepsDone < 50);
    assert.equal(tf.memory().numTensors, before);
  });
});
