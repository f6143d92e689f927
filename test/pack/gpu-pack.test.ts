// The air-gapped GPU pack: built from this tree, then run the way a bare GPU node would run it:
// an empty environment (no PATH to Node.js, no npm, no repository), only the pack's launcher.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACK_LIMIT, buildPack } from '../../tools/gpu-pack.ts';
import { probeAdapterSync } from '../../stages/model/backends/webgpu.ts';

describe('gpu-pack', function () {
  this.timeout(600_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wc-pack-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('builds one folder under 64 MiB that runs gpu-check with no Node.js, npm or network', async () => {
    const { out, bytes, files } = await buildPack(path.join(tmp, 'pack'), () => {});
    assert.ok(bytes < PACK_LIMIT, `${bytes} bytes`);
    for (const f of ['gpu-check', 'node.gz', 'PACK_ID', 'app/gpu-check.mjs', 'app/tfjs-backend-wasm-simd.wasm', 'app/node_modules/webgpu/dist/linux-x64/dawn.node.gz'])
      assert.ok(f in files || fs.existsSync(path.join(out, f)), `${f} missing`);
    // The Vulkan loader (found by running ldconfig -p): shipped exactly when this machine has one, byte for byte.
    const ld = spawnSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '';
    const vk = ld.split('\n').find((l) => l.includes('libvulkan.so.1 ') && l.includes('x86-64'))?.split('=>').pop()!.trim();
    assert.equal('lib/libvulkan.so.1' in files, vk !== undefined, `ldconfig lists ${vk ?? 'no libvulkan.so.1'}`);
    if (vk) assert.deepEqual(fs.readFileSync(path.join(out, 'lib/libvulkan.so.1')), fs.readFileSync(vk));
    const run = path.join(tmp, 'run');
    const r = spawnSync('/bin/sh', [path.join(out, 'gpu-check'), '--quick'], {
      cwd: tmp, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: tmp, WEAKCORR_PACK_RUN: run }, maxBuffer: 64 << 20,
    });
    assert.equal(r.status, 0, (r.stderr + r.stdout).slice(-3000));
    // The launcher unpacked and used the bundled Node.js.
    assert.equal(spawnSync(path.join(run, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim(), process.version);
    const o = r.stdout;
    assert.match(o, /== doctor\n/);
    assert.match(o, /auto picks: \w+/);
    assert.match(o, /== A\.2 step benchmark/);
    assert.match(o, /== paper-a2 slice: width 256, 4 SGD steps.*\(MNIST from .*data\/mnist\)/);
    assert.match(o, /projection: the full paper-a2[^\n]*\ntotal [\d.]+ PFLOP at [\d.]+ GFLOP\/s \(\w+, measured at width 256\): [\d.]+ (GPU|CPU)-hours/);
    if ((probeAdapterSync()).ok) {
      // The GPU code path ran from the pack (on CI: the software adapter), next to the CPU backend.
      assert.match(o, /width\s+webgpu ms\/step\s+webgpu GFLOP\/s\s+wasm ms\/step\s+wasm GFLOP\/s/);
      assert.match(o, /webgpu\s+WebGPU \w+ \w+ .*\n\s+wasm\s+CPU \(tfjs wasm\)/);
      assert.match(o, /webgpu vs wasm: test loss relative difference [\d.e+-]+, MSE_test\(f, f_lin\) relative difference/);
    } else {
      assert.match(o, /width\s+wasm ms\/step\s+wasm GFLOP\/s/);
    }
  });
});
