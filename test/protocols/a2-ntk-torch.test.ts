// The a2-ntk training job (A.2 in the NTK parameterization, eta = lr0 n^beta) against an
// independent PyTorch float64 implementation (bench/torch/a2_reference.py with the per-layer scales
// z = c_l W a + s_l b) on the same theta0, batches and test images. The same reference with the
// mean-field output scale, or with the learning rate of another beta, lands far off:
// the comparison would catch a wrong parameterization or exponent.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { selectBackend } from '../../stages/model/backend.ts';
import { resolveSpec } from '../../stages/model/spec.ts';
import { trainSideBySide } from '../../stages/train/loop.ts';
import { a2NtkJob, type A2NtkRunParams } from '../../stages/protocols/a2-ntk/job.ts';
import { loadMnist, MIRROR, PYTHON, torchForJob } from '../train/a2-precision.ts';

describe('train-a2-ntk vs a PyTorch float64 reference (width 64, β = −1/2)', function () {
  this.timeout(600_000);
  after(async () => {
    await selectBackend('cpu', { log: () => {} });
  });

  it('gives the same MSE_test and test losses; a wrong parameterization or β does not', async function () {
    const why = !fs.existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import torch']).status !== 0 ? `PyTorch is not importable by ${PYTHON}`
      : fs.existsSync(path.join(MIRROR, 'mnist')) ? undefined : `no MNIST mirror at ${MIRROR}`;
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    await selectBackend('wasm', { log: () => {} });
    const { train, test } = await loadMnist();
    const p: A2NtkRunParams = { lr0: 64, steps: 60, batch: 128, testSize: 500, activation: 'gelu', depth: 2, lossScale: 1, logEvery: 1000 };
    const pt = { width: 64, seed: 3, beta: -0.5 };
    const job = a2NtkJob(train, test, p, pt, { progress: () => {} });
    assert.equal(job.lr, 64 / 8);
    const ours = await trainSideBySide(job);
    assert.equal(ours.status, 'ok');
    const got = ours.final!;

    const ref = torchForJob(train, test, job, p, true);
    const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
    console.log(`      MSE_test ours ${got.mseTest.toExponential(5)} torch float64 ${ref.mseTest.toExponential(5)} (rel ${rel(got.mseTest, ref.mseTest).toExponential(2)})`);
    assert.ok(ref.mseTest > 0);
    assert.ok(rel(got.mseTest, ref.mseTest) < 1e-3, `MSE_test ${got.mseTest} vs torch ${ref.mseTest}`);
    assert.ok(rel(got.testLossNet, ref.testLossNet) < 1e-4, `test loss of f ${got.testLossNet} vs ${ref.testLossNet}`);
    assert.ok(rel(got.testLossLin, ref.testLossLin) < 1e-4, `test loss of f_lin ${got.testLossLin} vs ${ref.testLossLin}`);

    // The same theta0 and batches with another parameterization's output scale (the mean-field
    // c_L = σ_w/n instead of σ_w/√n), or with eta = lr0 n^0: each moves MSE_test far beyond the
    // tolerance above. (The standard scales c_l = 1 on N(0, 1) weights diverge at this eta.)
    const r = resolveSpec(job.spec);
    const meanField = torchForJob(train, test, job, p, true, { wScale: r.wScale.map((c, l) => (l === r.depth ? c / Math.sqrt(pt.width) : c)) });
    const beta0 = torchForJob(train, test, job, p, true, { lr: p.lr0 });
    console.log(`      wrong output scale: MSE_test ${meanField.mseTest.toExponential(3)}; wrong β (0): ${beta0.mseTest.toExponential(3)}`);
    assert.ok(!(rel(got.mseTest, meanField.mseTest) <= 0.5), `mean-field output scale: ${meanField.mseTest}`);
    assert.ok(!(rel(got.mseTest, beta0.mseTest) <= 0.5), `β = 0: ${beta0.mseTest}`);
  });
});
