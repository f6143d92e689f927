// The teacher run of Corollary 4.0.1 (online SGD on a linear teacher, NTK parameterization) against
// an independent PyTorch float64 implementation (bench/torch/teacher_reference.py) on the same
// theta0, the same fresh batches and the same monitored test samples: the logged deviation
// mean ||f - f_lin||^2 and f_lin's test loss (the corollary's hypothesis) at every logged step.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../../stages/model/backend.ts';
import { initHostParams, resolveSpec } from '../../stages/model/mlp.ts';
import { trainSideBySide } from '../../stages/train/loop.ts';
import { teacherJob, type TeacherRunParams } from '../../stages/protocols/corollary/teacher.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = '/usr/bin/python3';

describe('train-teacher vs a PyTorch float64 reference (width 64)', function () {
  this.timeout(300_000);
  after(async () => {
    await selectBackend('cpu', { log: () => {} });
  });

  it('logs the same deviation and test losses to 1e-3 relative at every logged step', async function () {
    const ok = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch, numpy']).status === 0;
    if (!ok) {
      console.log(`      skipped: PyTorch is not importable by ${PYTHON}`);
      this.skip();
    }
    await selectBackend('wasm', { log: () => {} });
    const p: TeacherRunParams = { inputDim: 32, depth: 2, activation: 'erf', steps: 300, batch: 4, lr: 1, lossScale: 0.5, logEvery: 50, testSamples: 64, sigmaW: 1, sigmaB: 0.05 };
    const pt = { width: 64, seed: 2 };
    // The job's batch stream, drawn once for us and once (from a second job) for the export.
    const ours = await trainSideBySide(teacherJob(p, pt, { progress: () => {} }));
    assert.equal(ours.status, 'ok');
    const job = teacherJob(p, pt, { progress: () => {} });
    const xs: Buffer[] = [];
    const ys: Buffer[] = [];
    for (let s = 0; s < p.steps; s++) {
      const b = job.nextBatch();
      xs.push(Buffer.from(b.x.buffer, b.x.byteOffset, b.x.byteLength));
      ys.push(Buffer.from(b.y.buffer, b.y.byteOffset, b.y.byteLength));
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wc-teacher-'));
    const r = resolveSpec(job.spec);
    const host = initHostParams(job.spec, pt.seed);
    fs.writeFileSync(path.join(dir, 'theta0.f32'), Buffer.concat(host.flatMap((l) => [Buffer.from(l.W.buffer), Buffer.from(l.b.buffer)])));
    fs.writeFileSync(path.join(dir, 'train_x.f32'), Buffer.concat(xs));
    fs.writeFileSync(path.join(dir, 'train_y.f32'), Buffer.concat(ys));
    const t = job.monitorTest;
    fs.writeFileSync(path.join(dir, 'test_x.f32'), Buffer.from(t.x.buffer, t.x.byteOffset, t.x.byteLength));
    fs.writeFileSync(path.join(dir, 'test_y.f32'), Buffer.from(t.y.buffer, t.y.byteOffset, t.y.byteLength));
    fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify({ sizes: r.sizes, wScale: r.wScale, bScale: r.bScale, lr: p.lr, batch: p.batch, steps: p.steps, lossScale: p.lossScale, logEvery: p.logEvery }));
    const py = spawnSync(PYTHON, [path.join(REPO, 'bench/torch/teacher_reference.py'), dir], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(py.status, 0, py.stderr);
    const ref = JSON.parse(py.stdout.trim().split('\n').at(-1)!) as { log: { step: number; mseMonitor: number; testLossNet: number; testLossLin: number }[] };
    assert.equal(ref.log.length, ours.log.length);
    const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
    for (const [i, want] of ref.log.entries()) {
      const got = ours.log[i]!;
      assert.equal(got.step, want.step);
      assert.ok(rel(got.testLossLin, want.testLossLin) < 1e-3, `step ${want.step}: test loss of f_lin ${got.testLossLin} vs ${want.testLossLin}`);
      assert.ok(rel(got.testLossNet, want.testLossNet) < 1e-3, `step ${want.step}: test loss of f ${got.testLossNet} vs ${want.testLossNet}`);
      assert.ok(rel(got.mseMonitor, want.mseMonitor) < 1e-3, `step ${want.step}: mean ||f − f_lin||² ${got.mseMonitor} vs ${want.mseMonitor}`);
    }
    console.log(`      last logged step: mean ||f − f_lin||² ours ${ours.log.at(-1)!.mseMonitor.toExponential(5)} torch ${ref.log.at(-1)!.mseMonitor.toExponential(5)}`);
  });
});
