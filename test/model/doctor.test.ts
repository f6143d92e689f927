import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { doctor, formatDoctor } from '../../stages/model/backends/doctor.ts';
import { probeOpenblas } from '../../stages/model/backends/openblas.ts';
import { inertTfjsNode } from '../../stages/model/backends/tfjs-node.ts';
import { A100, fakeCudaMachine } from './fixtures/cuda.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const present = (): { present: boolean; reason: string } => ({ present: true, reason: 'test' });
const HW = { ok: true, vendor: 'nvidia', architecture: 'ampere', device: 'NVIDIA A100', description: 'NVIDIA A100-SXM4-80GB', software: false, maxStorageBufferBindingSize: 2 ** 32 - 1 };
const SW = { ok: true, vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'llvmpipe', software: true, maxStorageBufferBindingSize: 2 ** 27 };

describe('weakcorr doctor', function () {
  this.timeout(120_000);
  let machine: ReturnType<typeof fakeCudaMachine>;
  before(() => (machine = fakeCudaMachine()));
  after(() => fs.rmSync(machine.dir, { recursive: true, force: true }));

  it('a GPU machine with CUDA 12 libraries: names the missing CUDA 11.2 / cuDNN 8.1 libraries and the fix; auto picks a hardware webgpu adapter', () => {
    const r = doctor({ libs: machine.env, gpus: () => [A100], cudaPresent: present, adapter: () => HW });
    const gpu = r.backends.find((b) => b.name === 'gpu')!;
    assert.equal(gpu.device.present, true);
    assert.match(gpu.device.detail, /NVIDIA A100-SXM4-80GB, 80\.0 GiB/);
    assert.deepEqual(gpu.libraries!.missing, ['libcublasLt.so.11', 'libcufft.so.10', 'libcusolver.so.11', 'libcudnn.so.8']);
    const libProblem = gpu.problems.find((p) => /missing CUDA 11\.2 \/ cuDNN 8\.1 libraries/.test(p.problem))!;
    assert.match(libProblem.problem, /libcublasLt\.so\.11, libcufft\.so\.10, libcusolver\.so\.11, libcudnn\.so\.8/);
    assert.match(libProblem.fix, /install CUDA 11\.2 and cuDNN 8\.1 .*LD_LIBRARY_PATH/);
    // tfjs-node-gpu is not installed on this machine: that problem comes with its fix too.
    assert.ok(gpu.problems.some((p) => /tfjs-node-gpu is not installed/.test(p.problem) && /npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/.test(p.fix)));
    const webgpu = r.backends.find((b) => b.name === 'webgpu')!;
    assert.equal(webgpu.problems.length, 0);
    assert.equal(r.auto.backend, 'webgpu');
    assert.deepEqual(r.auto.skipped.map((s) => s.name), ['gpu']);
    assert.match(formatDoctor(r), /auto picks: webgpu: webgpu is the first usable backend/);
  });

  it('only a software adapter, or none: auto skips webgpu with the reason; the fix names a Vulkan driver', () => {
    // No OpenBLAS either (WEAKCORR_OPENBLAS pointing nowhere): auto goes on to wasm.
    const noBlas = { ...process.env, WEAKCORR_OPENBLAS: '/nonexistent/libopenblas.so.0' };
    const sw = doctor({ libs: machine.env, gpus: () => [], cudaPresent: () => ({ present: false, reason: 'no /dev/nvidia0' }), adapter: () => SW, env: noBlas });
    assert.equal(sw.auto.backend, 'wasm');
    assert.deepEqual(sw.auto.skipped.map((s) => s.name), ['gpu', 'webgpu', 'node', 'blas']);
    assert.match(sw.auto.skipped[3].reason, /WEAKCORR_OPENBLAS=\/nonexistent\/libopenblas\.so\.0 does not exist/);
    assert.match(formatDoctor(sw), /fix: apt-get install libopenblas0-pthread/);
    assert.match(sw.auto.skipped[1].reason, /only adapter is a software one/);
    const none = doctor({ libs: machine.env, gpus: () => [], cudaPresent: () => ({ present: false, reason: 'no /dev/nvidia0' }), adapter: () => ({ ok: false, reason: 'Dawn found no WebGPU adapter' }) });
    const w = none.backends.find((b) => b.name === 'webgpu')!;
    assert.equal(w.device.present, false);
    assert.match(w.problems[0].fix, /Vulkan driver.*NVIDIA_DRIVER_CAPABILITIES must include graphics.*bookworm-backports mesa-vulkan-drivers/);
    const text = formatDoctor(none);
    assert.match(text, /NO  device: no adapter \(Dawn found no WebGPU adapter\)/);
    // An absent device is stated as absent, not as problem/fix blocks (issue 23).
    assert.match(text, /webgpu: [^\n]*\n(?:  [^\n]*\n)*  absent: this machine has no device for webgpu/);
    assert.doesNotMatch(text.slice(text.indexOf('gpu:'), text.indexOf('\nnode:')), /problem:/);
    assert.match(text, /NO  CUDA\/cuDNN libraries: found libcudart\.so\.11\.0, libcublas\.so\.11, libcurand\.so\.10, libcusparse\.so\.11; missing libcublasLt\.so\.11/);
  });

  it('`weakcorr doctor --json` on this machine: exits 0, every backend reported, libraries found on LD_LIBRARY_PATH', () => {
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), 'doctor', '--json'], {
      encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: machine.env.ldLibraryPath },
    });
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as ReturnType<typeof doctor>;
    assert.deepEqual(rep.backends.map((b) => b.name), ['gpu', 'webgpu', 'node', 'blas', 'wasm', 'cpu']);
    const gpu = rep.backends.find((b) => b.name === 'gpu')!;
    assert.ok('libcudart.so.11.0' in gpu.libraries!.found && 'libcublas.so.11' in gpu.libraries!.found);
    assert.ok(gpu.libraries!.missing.includes('libcudnn.so.8'));
    // This CPU machine: auto gets blas (OpenBLAS present) or wasm, as selectBackend does (test/model/backend.test.ts).
    const cpuAuto = probeOpenblas().ok ? 'blas' : 'wasm';
    assert.equal(rep.auto.backend, cpuAuto);
    if (cpuAuto === 'blas') assert.match(rep.backends.find((b) => b.name === 'blas')!.precision!, /^float32; OpenBLAS [\d.]+ core \w+/);
    const text = spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), 'doctor'], { encoding: 'utf8' });
    assert.equal(text.status, 0);
    assert.match(text.stdout, new RegExp(`auto picks: ${cpuAuto}`));
  });
});

describe('weakcorr doctor: an inert tfjs-node (its install script never ran)', () => {
  it('no libtensorflow under deps/: says why (npm >= 11 allowScripts) and prints the exact fix; a full install is not inert', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-node-'));
    try {
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0' }));
      const inert = inertTfjsNode('@tensorflow/tfjs-node', dir)!;
      assert.match(inert.problem, /@tensorflow\/tfjs-node .*is inert: no libtensorflow under its deps\/ .*allowScripts/);
      assert.match(inert.fix, /npm rebuild @tensorflow\/tfjs-node \(this project's package\.json approves its script: "allowScripts": \{ "@tensorflow\/tfjs-node": true \}/);
      fs.mkdirSync(path.join(dir, 'deps', 'lib'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'deps', 'lib', 'libtensorflow.so.2'), '');
      assert.equal(inertTfjsNode('@tensorflow/tfjs-node', dir), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("package.json decides every install script: tfjs-node(-gpu) approved (they fetch libtensorflow), the rest denied (they work without)", () => {
    const pj = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
    assert.deepEqual(pj.allowScripts, { '@tensorflow/tfjs-node': true, '@tensorflow/tfjs-node-gpu': true, esbuild: false, 'core-js': false, koffi: false, webgpu: false });
  });
});

describe('weakcorr doctor: Hopper', () => {
  const H100 = { name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, driver: '550.54.15' };
  it('notes the JIT compilation of libtensorflow 2.9 (no sm_90 kernels) and asks for a large CUDA_CACHE_MAXSIZE; the CUDA fix names 11.8 / cuDNN 8.9', () => {
    const machine = fakeCudaMachine();
    try {
      const base = { libs: machine.env, gpus: () => [H100], cudaPresent: present, adapter: () => HW };
      const r = doctor({ ...base, env: { ...process.env, CUDA_CACHE_MAXSIZE: '' } });
      const gpu = r.backends.find((b) => b.name === 'gpu')!;
      assert.match(gpu.notes!.join('\n'), /no sm_90 kernels: on Hopper the driver JIT-compiles its compute_80 PTX .*many minutes.*export CUDA_CACHE_MAXSIZE=4294967296/);
      assert.match(formatDoctor(r), /note: libtensorflow 2\.9 has no sm_90 kernels/);
      assert.match(gpu.problems.find((p) => /missing CUDA/.test(p.problem))!.fix, /on Hopper \(H100, H200\) use CUDA 11\.8 and cuDNN 8\.9 for CUDA 11 .*same sonames as 11\.2/);
      const kept = doctor({ ...base, env: { ...process.env, CUDA_CACHE_MAXSIZE: '4294967296' } }).backends.find((b) => b.name === 'gpu')!;
      assert.doesNotMatch(kept.notes!.join('\n'), /export CUDA_CACHE_MAXSIZE/);
      const a100 = doctor({ ...base, gpus: () => [A100] }).backends.find((b) => b.name === 'gpu')!;
      assert.equal(a100.notes, undefined);
    } finally {
      fs.rmSync(machine.dir, { recursive: true, force: true });
    }
  });
});
