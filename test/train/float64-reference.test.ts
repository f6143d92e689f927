// Issue 19: the float32 A.2 path against PyTorch in float64 (bench/torch/a2_reference.py --float64)
// on the same theta0, batches and test images, at a setting where float32 rounding matters: width
// 512, alpha = -1.15 (eta = 0.1 * 512^-1.15), 250 steps, seed 0. There the updates are near
// ulp(W)/2: the old absolute parameter storage (test/train/absolute-trainer.ts) is off by 1.87x
// (8.54e-14 vs 4.56e-14), the new path by 6% (4.84e-14), MSE_test 20x above its measured floor.
// Measured neighbours (bench/precision.ts --width 512 --test 1000): alpha -1.175: old 2.4x, new
// +12%; alpha -1.2: old 6.5x, new +20% (the new path's error is its evaluation floor, ~2.3e-15).
// A setting with old > 2x and new < 10% needs a lower evaluation floor (issue 19, open).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { selectBackend } from '../../stages/model/backend.ts';
import { probeAdapterSync } from '../../stages/model/backends/webgpu.ts';
import { MIRROR, PYTHON, loadMnist, newA2, oldA2, torchA2, type PrecisionSetting } from './a2-precision.ts';
import { spawnSync } from 'node:child_process';

const SETTING: PrecisionSetting = { width: 512, alpha: -1.15, seed: 0, steps: 250, testSize: 1000 };

function torchMissing(): string | undefined {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `PyTorch is not importable by ${PYTHON} (apt-get install python3-torch): ${r.stderr.trim().split('\n').at(-1)}`;
}

describe(`A.2 in float32 vs float64 (width ${SETTING.width}, alpha ${SETTING.alpha})`, function () {
  this.timeout(600_000);
  let f64: number | undefined;
  let data: Awaited<ReturnType<typeof loadMnist>> | undefined;
  after(async () => {
    await selectBackend('cpu', { log: () => {} });
  });

  for (const backend of ['wasm', 'webgpu'] as const)
  it(`new float32 MSE_test within 10% of float64 where the old storage is off by > 2x (${backend})`, async function () {
    let why = torchMissing() ?? (fs.existsSync(path.join(MIRROR, 'mnist')) ? undefined : `no MNIST mirror at ${MIRROR}`);
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
    data ??= await loadMnist();
    f64 ??= torchA2(data.train, data.test, SETTING, true).mseTest;
    const ours = await newA2(data.train, data.test, SETTING);
    const rel = (a: number): number => Math.abs(a - f64!) / f64!;
    console.log(`      MSE_test float64 ${f64.toExponential(4)}, new float32 ${ours.mseTest.toExponential(4)} (rel ${rel(ours.mseTest).toFixed(3)}, measured floor ${ours.floor.toExponential(2)})`);
    assert.ok(ours.mseTest > 10 * ours.floor, `the setting must stay above the float32 floor: MSE_test ${ours.mseTest}, floor ${ours.floor}`);
    assert.ok(rel(ours.mseTest) < 0.1, `new float32 MSE_test ${ours.mseTest} vs float64 ${f64}`);
    if (backend === 'wasm') {
      // The setting discriminates: the old absolute storage (a fixture) is off by more than 50% here (1.87x measured).
      const old = await oldA2(data.train, data.test, SETTING);
      console.log(`      old float32 (absolute storage) ${old.toExponential(4)} (${(old / f64).toFixed(2)}x float64)`);
      assert.ok(Math.abs(old - f64) / f64 > 0.5, `old path ${old} vs float64 ${f64}: not a discriminating setting`);
    }
  });
});
