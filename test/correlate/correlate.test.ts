import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ArtifactRef, ContentHash, InputTask, Json, JsonObject, TaskContext } from '../../pipeline/engine/types.ts';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { disposeParams, hostToParams, initHostParams, paramCounts, type HostLayer, type MlpSpec } from '../../stages/model/mlp.ts';
import { derivativeCorrelations, type CorrelationResult } from '../../stages/model/taylor.ts';
import type { Split } from '../../stages/train/data.ts';
import { a1Samples } from '../../stages/protocols/a1/job.ts';
import { eq25Aggregate } from '../../stages/protocols/a1/correlate/aggregate.ts';
import { rmsOf } from '../../stages/model/rms.ts';
import { correlateStage } from '../../stages/protocols/a1/correlate/index.ts';
import { correlationSamples } from '../../stages/protocols/a1/correlate/inputs.ts';
import { paramsToBytes } from '../../stages/model/param-bytes.ts';
import { measureCorrelations } from '../../stages/protocols/a1/correlate/measure.ts';
import { sampledSetSeed } from '../../stages/protocols/a1/correlate/result.ts';
import { jsonSchema } from '../../stages/contracts/common.ts';
import { CorrelationResultSchema } from '../../stages/contracts/correlation-result.ts';
import { fakeSplit } from '../train/fake-split.ts';

const DIM = 12;
const A1 = { trainSamples: 10, testSamples: 6, permutationSeed: 0, drawPerSeed: true, zscore: true, parameterization: 'ntk' as const, sigmaW: 1, sigmaB: 0.05, lr: 0.8 };
const POINT = { dataset: 'fake', activation: 'erf' as const, depth: 2, width: 8, seed: 3 };
const SPEC: MlpSpec = { dIn: DIM, width: POINT.width, depth: POINT.depth, activation: POINT.activation, parameterization: 'ntk', sigmaW: 1, sigmaB: 0.05 };

interface Stat { rms: number; perSample: number[] }
interface SStat extends Stat { eq25: number }
interface Block { exact: { c01: Stat; c02: Stat; c03: Stat }; sampled: { perLayer: number; setSize: number[]; total: number; seed: number; c02: SStat; c03: SStat } }
interface Result extends Block { schema: string; samples: number; outputs: number; eta: number; atEnd: Block | null; point: JsonObject }

const ref = (hash: string, size: number): ArtifactRef => ({ hash: hash as ContentHash, size, path: `/nonexistent/${hash}` });

/** A TaskContext over in-memory artifacts; json outputs are validated like the engine does. */
function fakeCtx(split: Split, over: { samples?: number; atEnd?: boolean; params?: Uint8Array | null }): { ctx: TaskContext; out: Record<string, unknown> } {
  const blobs: Record<string, Uint8Array> = { img: split.images, lab: split.labels };
  const inputs: Record<string, InputTask[]> = {
    fetch: [{ id: 'fetch@fake', stage: 'fetch', axes: { dataset: 'fake' }, outputs: { train_images: ref('img', split.images.length), train_labels: ref('lab', split.labels.length) } }],
  };
  if (over.params) {
    blobs.par = over.params;
    inputs['train-a1'] = [{ id: 'train-a1@fake,erf,L2,w8,s3', stage: 'train-a1', axes: { ...POINT }, outputs: { params: ref('par', over.params.length) } }];
  }
  const validate = new Ajv({ allErrors: true, strict: false }).compile(jsonSchema(CorrelationResultSchema));
  const out: Record<string, unknown> = {};
  const ctx: TaskContext = {
    id: 'correlate@fake,erf,L2,w8,s3', stage: 'correlate', experiment: 'test', baseExperiment: 'test', overrides: {}, lineage: [],
    axes: { ...POINT },
    params: {
      ...Object.fromEntries(Object.entries(A1).map(([k, v]) => [`a1.${k}`, v])),
      'correlate.samples': over.samples ?? 14, 'correlate.sampledSetSize': 5, 'correlate.sampledSeed': 2, 'correlate.atEnd': over.atEnd ?? false,
    },
    inputs,
    async readBytes(r) {
      const b = blobs[r.hash];
      if (!b) throw new Error(`no blob ${r.hash}`);
      return Buffer.from(b);
    },
    async readJson<T = Json>(): Promise<T> { throw new Error('unused'); },
    async writeJson(name, value) {
      if (!validate(value)) throw new Error(`schema: ${JSON.stringify(validate.errors)}`);
      out[name] = value;
    },
    async writeBytes() { throw new Error('unused'); },
    progress: () => {},
    log: () => {},
    tmpDir: '/tmp',
    signal: new AbortController().signal,
  };
  return { ctx, out };
}

/** X as the nets see it (POINT's seed's draw), built independently of the stage: train part then test part. */
function directX(split: Split, samples: number): tf.Tensor2D {
  const { train, test } = a1Samples(split, A1, 'fake', POINT.seed);
  const all = new Float32Array((train.count + test.count) * DIM);
  all.set(train.x);
  all.set(test.x, train.x.length);
  return tf.tensor2d(all.subarray(0, samples * DIM), [samples, DIM]);
}

function direct(host: HostLayer[], x: tf.Tensor2D, setSeed: number): CorrelationResult {
  const p = hostToParams(host);
  try {
    return derivativeCorrelations(SPEC, p, x, { eta: A1.lr, sampled: { perLayer: 5, seed: setSeed } });
  } finally {
    disposeParams(p);
  }
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let k = 0; k < expected.length; k++) scale = Math.max(scale, Math.abs(expected[k]));
  for (let k = 0; k < expected.length; k++) {
    const tol = rel * Math.max(Math.abs(expected[k]), 1e-3 * scale);
    assert.ok(Math.abs(actual[k] - expected[k]) <= tol, `${what}[${k}]: ${actual[k]} vs ${expected[k]} (tol ${tol})`);
  }
}

function assertBlockMatches(b: Block, d: CorrelationResult, S: number, what: string): void {
  for (const k of ['c01', 'c02', 'c03'] as const) {
    assertClose(b.exact[k].perSample, d[k], 1e-5, `${what} exact ${k}`);
    assertClose([b.exact[k].rms], [d.rms[k]], 1e-5, `${what} exact ${k} rms`);
  }
  for (const k of ['c02', 'c03'] as const) {
    assertClose(b.sampled[k].perSample, d.sampled![k], 1e-5, `${what} sampled ${k}`);
    assertClose([b.sampled[k].rms], [d.sampled!.rms[k]], 1e-5, `${what} sampled ${k} rms`);
    assertClose([b.sampled[k].eq25], [d.sampled!.rms[k] / Math.sqrt(S)], 1e-5, `${what} sampled ${k} eq25`);
  }
  assert.equal(b.sampled.total, d.sampled!.set.size);
}

describe('correlate', () => {
  const split = fakeSplit(40, DIM);

  before(async () => {
    await selectBackend('wasm', { log: () => {} });
  });

  it('declares the A.1 matrix, the fetch need and the conditional train-a1 params need', () => {
    assert.equal(correlateStage.name, 'correlate');
    assert.equal(correlateStage.module, new URL('../../stages/protocols/a1/correlate/index.ts', import.meta.url).href);
    assert.deepEqual(correlateStage.matrix, {
      dataset: 'a1.datasets', activation: 'a1.activations',
      depth: { key: 'a1.depths', prefix: 'L' }, width: { key: 'a1.widths', prefix: 'w' }, seed: { key: 'a1.seeds', prefix: 's' },
    });
    assert.deepEqual(correlateStage.needs, [
      { stage: 'fetch', outputs: ['train_images', 'train_labels'] },
      { stage: 'train-a1', outputs: ['params'], when: 'correlate.atEnd' },
    ]);
    for (const k of ['a1.lr', 'a1.permutationSeed', 'a1.zscore', 'correlate.samples', 'correlate.sampledSetSize', 'correlate.sampledSeed', 'correlate.atEnd'])
      assert.ok(correlateStage.params.includes(k), k);
    assert.ok(!correlateStage.params.includes('a1.steps'), 'training length does not enter the theta0 key');
  });

  it('importing the stage declaration does not load tfjs (the parent process plans without it)', function () {
    this.timeout(60000);
    const entry = new URL('../../stages/protocols/a1/correlate/index.ts', import.meta.url).href;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
      `await import(${JSON.stringify(entry)}); console.log('tfjs engine: ' + typeof globalThis._tfengine);`],
    { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /tfjs engine: undefined/);
  });

  it('run(ctx) on a tiny fake dataset equals direct calls of derivativeCorrelations, and leaks no tensors', async () => {
    const S = 14; // 10 train + 4 test images: X crosses into the test part
    const { ctx, out } = fakeCtx(split, { samples: S });
    const before = tf.memory().numTensors;
    await correlateStage.run(ctx);
    assert.equal(tf.memory().numTensors, before);
    const r = out.result as unknown as Result;
    assert.equal(r.schema, 'weakcorr/correlation-result@1');
    assert.deepEqual(r.point, POINT);
    assert.equal(r.samples, S);
    assert.equal(r.outputs, 10);
    assert.equal(r.eta, A1.lr);
    assert.equal(r.atEnd, null);
    assert.deepEqual(r.sampled.setSize, [5, 5, 5]);
    const setSeed = sampledSetSeed(2, POINT.seed);
    assert.equal(r.sampled.seed, setSeed);
    const x = directX(split, S);
    const d = direct(initHostParams(SPEC, POINT.seed), x, setSeed);
    x.dispose();
    assertBlockMatches(r, d, S, 'theta0');
  });

  it('blocking X does not change the values', async () => {
    const { x } = correlationSamples(split, A1, 'fake', 1, 16);
    const host = initHostParams(SPEC, 1);
    const one = await measureCorrelations(SPEC, host, x, { eta: 1, perLayer: 7, setSeed: 4 });
    const blocked = await measureCorrelations(SPEC, host, x, { eta: 1, perLayer: 7, setSeed: 4, block: 3 });
    // Only the summation order changes: float32 rounding of sums with cancellation, which depends on
    // the CPU's kernels (1.6e-5 relative on one sampled c02 entry on an AMD EPYC, OpenBLAS core Zen).
    // A block that dropped or repeated samples would move the values by O(1).
    assertClose(blocked.exact.c03, one.exact.c03, 1e-4, 'c03');
    assertClose(blocked.sampled.c02, one.sampled.c02, 1e-4, 'sampled c02');
  });

  it('sampled estimator with |D| >= all parameters: value * eta^d N^d / d! equals the exact C^{0,d}', async () => {
    const spec: MlpSpec = { dIn: 4, width: 3, depth: 2, activation: 'erf', parameterization: 'ntk' };
    const N = paramCounts(spec).total; // 15 + 12 + 40
    const x = Float32Array.from({ length: 5 * 4 }, (_, k) => Math.sin(1.3 * k + 0.2));
    const eta = 0.7;
    const m = await measureCorrelations(spec, initHostParams(spec, 5), x, { eta, perLayer: 1000, setSeed: 1 });
    assert.equal(m.sampled.total, N);
    assert.deepEqual(m.sampled.setSize, paramCounts(spec).perLayer);
    assertClose(m.sampled.c02.map((v) => (v * eta ** 2 * N ** 2) / 2), m.exact.c02, 1e-3, 'c02');
    assertClose(m.sampled.c03.map((v) => (v * eta ** 3 * N ** 3) / 6), m.exact.c03, 1e-3, 'c03');
    assert.ok(rmsOf(m.exact.c03) > 0);
  });

  it('Eq. 25 aggregate matches a hand computation', () => {
    // S = 3 samples, d_y = 2 outputs: sum of squares 1+4+9+16+25+36 = 91
    const v = [1, 2, 3, 4, 5, 6];
    assert.equal(eq25Aggregate(v, 3, 2), Math.sqrt(91 / 2) / 3);
    assert.equal(rmsOf(v), Math.sqrt(91 / 6));
    assert.ok(Math.abs(eq25Aggregate(v, 3, 2) - rmsOf(v) / Math.sqrt(3)) < 1e-15);
    assert.throws(() => eq25Aggregate(v, 2, 2), /6 values, expected 2 samples x 2 outputs/);
  });

  it('atEnd: the trained parameters from train-a1 give a second block that differs from theta0 and matches a direct call', async () => {
    const theta0 = initHostParams(SPEC, POINT.seed);
    const trained = theta0.map((h) => ({ ...h, W: h.W.map((w, k) => w * 1.2 + 0.1 * Math.cos(k)), b: h.b.map((b) => b + 0.3) }));
    const bytes = paramsToBytes(trained.flatMap((h) => [h.W, h.b]));

    const { ctx, out } = fakeCtx(split, { samples: 8, atEnd: true, params: bytes });
    await correlateStage.run(ctx);
    const r = out.result as unknown as Result;
    assert.ok(r.atEnd, 'atEnd block present');
    assert.notDeepEqual(r.atEnd.exact.c02.perSample, r.exact.c02.perSample);
    const x = directX(split, 8);
    const setSeed = sampledSetSeed(2, POINT.seed);
    assertBlockMatches(r, direct(theta0, x, setSeed), 8, 'theta0');
    assertBlockMatches(r.atEnd, direct(trained, x, setSeed), 8, 'atEnd');
    x.dispose();
  });

  it('errors are clear: too many samples, atEnd without trained parameters', async () => {
    await assert.rejects(correlateStage.run(fakeCtx(split, { samples: 17 }).ctx),
      /correlate.samples is 17, but the sample has only a1.trainSamples \+ a1.testSamples = 10 \+ 6 = 16 images/);
    assert.throws(() => correlationSamples(split, A1, 'fake', 1, 0), /correlate.samples must be a positive integer/);
    // The mean-field control's stage names its own section, not a1's.
    assert.throws(() => correlationSamples(split, A1, 'fake', 1, 17, { samples: 'meanfield.samples', section: 'meanfield' }),
      (e: Error) => /^meanfield\.samples is 17, but the sample has only meanfield\.trainSamples \+ meanfield\.testSamples/.test(e.message) && !/a1\./.test(e.message));
    await assert.rejects(correlateStage.run(fakeCtx(split, { atEnd: true }).ctx),
      /correlate.atEnd is true, but no train-a1 task reached this task/);
  });
});
