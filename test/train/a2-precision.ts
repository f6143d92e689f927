// Shared by test/train/float64-reference.test.ts and bench/precision.ts: one A.2 run three ways on
// the same theta0, batches and test images: the old float32 path (absolute parameter storage,
// absolute-trainer.ts), the new float32 path (trainSideBySide) and PyTorch (bench/torch/a2_reference.py).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchDataset } from '../../stages/fetch/index.ts';
import { initHostParams, resolveSpec } from '../../stages/model/mlp.ts';
import { oneHot, sgdBatches, splitFromBytes, type Split } from '../../stages/train/data.ts';
import { trainSideBySide, type TrainJob } from '../../stages/train/loop.ts';
import { a2Job, type A2RunParams } from '../../stages/protocols/a2/job.ts';
import { absoluteStorageMseTest } from './absolute-trainer.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const MIRROR = process.env.WEAKCORR_DATA_MIRROR || path.resolve(REPO, '../shared/datasets');
export const PYTHON = '/usr/bin/python3';

export interface PrecisionSetting { width: number; alpha: number; seed: number; steps: number; testSize: number }

export async function loadMnist(): Promise<{ train: Split; test: Split }> {
  const mnist = await fetchDataset('mnist', { mirrorDir: MIRROR, offline: true, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'wc-data-')), log: () => {} });
  return {
    train: splitFromBytes(mnist.splits.train!.images, mnist.splits.train!.labels, 'mnist train'),
    test: splitFromBytes(mnist.splits.test!.images, mnist.splits.test!.labels, 'mnist test'),
  };
}

/** A.2 as paper-a2.json runs it (GELU, depth 2, lr0 0.1, batch 128), at one point. */
export function a2Params(s: PrecisionSetting): A2RunParams {
  return { lr0: 0.1, steps: s.steps, batch: 128, testSize: s.testSize, activation: 'gelu', depth: 2, lossScale: 1, logEvery: 1_000_000 };
}

/** Runs bench/torch/a2_reference.py on exactly what the A.2 job uses; returns its JSON line. */
export function torchA2(train: Split, test: Split, s: PrecisionSetting, float64: boolean): TorchA2Result {
  const p = a2Params(s);
  return torchForJob(train, test, a2Job(train, test, p, s, { progress: () => {} }), p, float64);
}

export interface TorchA2Result { mseTest: number; testLossNet: number; testLossLin: number }

/**
 * Runs bench/torch/a2_reference.py on what an A.2-shaped job uses (its theta0 from its seed and
 * spec, with the spec's per-layer scales; its seeded batch order; the first `testSize` test
 * images). `override` replaces the learning rate or the scales sent, to show a wrong one is caught.
 */
export function torchForJob(train: Split, test: Split, job: TrainJob, p: Pick<A2RunParams, 'batch' | 'steps' | 'testSize' | 'lossScale'>, float64: boolean,
  override: { lr?: number; wScale?: number[]; bScale?: number[] } = {}): TorchA2Result {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wc-torch-'));
  const spec = resolveSpec(job.spec);
  const host = initHostParams(job.spec, job.seed);
  fs.writeFileSync(path.join(dir, 'theta0.f32'), Buffer.concat(host.flatMap((l) => [Buffer.from(l.W.buffer), Buffer.from(l.b.buffer)])));
  const batches = sgdBatches(train.count, p.batch, job.seed);
  const rows: Buffer[] = [];
  const ys: Buffer[] = [];
  for (let k = 0; k < p.steps; k++) {
    const idx = batches.next().value as Uint32Array;
    for (const i of idx) rows.push(Buffer.from(train.images.subarray(i * train.dim, (i + 1) * train.dim)));
    ys.push(Buffer.from(oneHot(train, idx).buffer));
  }
  fs.writeFileSync(path.join(dir, 'train_rows.u8'), Buffer.concat(rows));
  fs.writeFileSync(path.join(dir, 'train_onehot.f32'), Buffer.concat(ys));
  fs.writeFileSync(path.join(dir, 'test_images.u8'), test.images.subarray(0, p.testSize * test.dim));
  fs.writeFileSync(path.join(dir, 'test_onehot.f32'), Buffer.from(oneHot(test, Uint32Array.from({ length: p.testSize }, (_, i) => i)).buffer));
  fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify({
    sizes: spec.sizes, activation: spec.activation, lr: override.lr ?? job.lr, batch: p.batch, steps: p.steps, lossScale: p.lossScale,
    wScale: override.wScale ?? spec.wScale, bScale: override.bScale ?? spec.bScale,
  }));
  const r = spawnSync(PYTHON, [path.join(REPO, 'bench/torch/a2_reference.py'), dir, ...(float64 ? ['--float64'] : [])],
    { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`a2_reference.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/**
 * The new float32 path (trainSideBySide): MSE_test in difference form and its measured floor, and
 * MSE_test of the same trained models from two plain float32 forward passes (`plain`).
 */
export async function newA2(train: Split, test: Split, s: PrecisionSetting): Promise<{ mseTest: number; floor: number; plain: number }> {
  const out = await trainSideBySide({ ...a2Job(train, test, a2Params(s), s, { progress: () => {} }), comparePlain: true });
  if (!out.final) throw new Error(`run ${out.status}`);
  return { mseTest: out.final.mseTest, floor: out.final.mseTestFloor, plain: out.plain?.mseTest ?? NaN };
}

export async function oldA2(train: Split, test: Split, s: PrecisionSetting): Promise<number> {
  return absoluteStorageMseTest(a2Job(train, test, a2Params(s), s, { progress: () => {} }));
}

