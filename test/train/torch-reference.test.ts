// The A.2 protocol at width 64 against an independent PyTorch implementation
// (bench/torch/a2_reference.py) on the same theta0, batches and test images.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchDataset } from '../../stages/fetch/index.ts';
import { selectBackend } from '../../stages/model/backend.ts';
import { probeOpenblas } from '../../stages/model/backends/openblas.ts';
import { probeAdapterSync } from '../../stages/model/backends/webgpu.ts';
import { initHostParams, resolveSpec } from '../../stages/model/mlp.ts';
import { oneHot, sgdBatches, splitFromBytes } from '../../stages/train/data.ts';
import { trainSideBySide } from '../../stages/train/loop.ts';
import { a2Job, type A2RunParams as A2Params } from '../../stages/protocols/a2/job.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MIRROR = process.env.WEAKCORR_DATA_MIRROR || path.resolve(REPO, '../shared/datasets');
const PYTHON = '/usr/bin/python3';

function torchAvailable(): string | undefined {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `PyTorch is not importable by ${PYTHON} (apt-get install python3-torch): ${r.stderr.trim().split('\n').at(-1)}`;
}

describe('train-a2 vs a PyTorch reference (width 64)', function () {
  this.timeout(600_000);
  after(async () => {
    await selectBackend('cpu', { log: () => {} });
  });

  // webgpu: the same protocol on Dawn (a software adapter in CI, where WEAKCORR_REQUIRE_WEBGPU=1
  // makes a missing adapter a failure), same 1e-4 tolerance.
  for (const backend of ['wasm', 'blas', 'webgpu'] as const)
  it(`gives the same MSE_test and test losses to 1e-4 relative (${backend})`, async function () {
    let why = torchAvailable() ?? (fs.existsSync(path.join(MIRROR, 'mnist')) ? undefined : `no MNIST mirror at ${MIRROR}`);
    if (!why && backend === 'blas') {
      // blas computes the pair step with its fused kernels (stages/model/layer-ops.ts).
      const b = probeOpenblas();
      if (!b.ok && process.env.WEAKCORR_REQUIRE_BLAS === '1') throw new Error(`WEAKCORR_REQUIRE_BLAS=1 but the blas backend does not load: ${b.reason}`);
      why = b.ok ? undefined : b.reason;
    }
    if (!why && backend === 'webgpu') {
      const a = probeAdapterSync();
      if (!a.ok && process.env.WEAKCORR_REQUIRE_WEBGPU === '1') throw new Error(`WEAKCORR_REQUIRE_WEBGPU=1 but there is no WebGPU adapter: ${a.reason}`);
      why = a.ok ? undefined : a.reason;
    }
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    await selectBackend(backend, { log: () => {} });
    const mnist = await fetchDataset('mnist', { mirrorDir: MIRROR, offline: true, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'wc-data-')), log: () => {} });
    const train = splitFromBytes(mnist.splits.train!.images, mnist.splits.train!.labels, 'mnist train');
    const test = splitFromBytes(mnist.splits.test!.images, mnist.splits.test!.labels, 'mnist test');
    const p: A2Params = { lr0: 0.1, steps: 250, batch: 128, testSize: 1000, activation: 'gelu', depth: 2, lossScale: 1, logEvery: 1000 };
    const pt = { width: 64, seed: 3, alpha: -0.5 };
    const job = a2Job(train, test, p, pt, { progress: () => {} });
    const ours = await trainSideBySide(job);
    assert.equal(ours.status, 'ok');

    // Export exactly what the job used: theta0 from the seed, the seeded batch order, the test set.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wc-torch-'));
    const spec = resolveSpec(job.spec);
    const host = initHostParams(job.spec, pt.seed);
    fs.writeFileSync(path.join(dir, 'theta0.f32'), Buffer.concat(host.flatMap((l) => [Buffer.from(l.W.buffer), Buffer.from(l.b.buffer)])));
    const batches = sgdBatches(train.count, p.batch, pt.seed);
    const rows: Buffer[] = [];
    const ys: Buffer[] = [];
    for (let s = 0; s < p.steps; s++) {
      const idx = batches.next().value as Uint32Array;
      for (const i of idx) rows.push(Buffer.from(train.images.subarray(i * train.dim, (i + 1) * train.dim)));
      ys.push(Buffer.from(oneHot(train, idx).buffer));
    }
    fs.writeFileSync(path.join(dir, 'train_rows.u8'), Buffer.concat(rows));
    fs.writeFileSync(path.join(dir, 'train_onehot.f32'), Buffer.concat(ys));
    fs.writeFileSync(path.join(dir, 'test_images.u8'), test.images.subarray(0, p.testSize * test.dim));
    fs.writeFileSync(path.join(dir, 'test_onehot.f32'), Buffer.from(oneHot(test, Uint32Array.from({ length: p.testSize }, (_, i) => i)).buffer));
    fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify({ sizes: spec.sizes, activation: spec.activation, lr: job.lr, batch: p.batch, steps: p.steps, lossScale: p.lossScale }));

    const r = spawnSync(PYTHON, [path.join(REPO, 'bench/torch/a2_reference.py'), dir], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
    const ref = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { mseTest: number; testLossNet: number; testLossLin: number };
    const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
    console.log(`      MSE_test ours ${ours.final!.mseTest.toExponential(6)} torch ${ref.mseTest.toExponential(6)} (rel ${rel(ours.final!.mseTest, ref.mseTest).toExponential(2)})`);
    assert.ok(ref.mseTest > 0);
    assert.ok(rel(ours.final!.mseTest, ref.mseTest) < 1e-4, `MSE_test ${ours.final!.mseTest} vs torch ${ref.mseTest}`);
    assert.ok(rel(ours.final!.testLossNet, ref.testLossNet) < 1e-4, `test loss net ${ours.final!.testLossNet} vs ${ref.testLossNet}`);
    assert.ok(rel(ours.final!.testLossLin, ref.testLossLin) < 1e-4, `test loss lin ${ours.final!.testLossLin} vs ${ref.testLossLin}`);
  });
});
