import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { AUTO_ORDER, BACKENDS, KINDS, backendOf, backendOfTf, isBackendName, listBackends } from '../../stages/model/backends/index.ts';
import { TF32_ENV, disableTf32, tf32State } from '../../stages/model/backends/gpu.ts';
import { doctor, formatDoctor } from '../../stages/model/backends/doctor.ts';
import { backendResources, runtimeOf } from '../../stages/model/runtime.ts';
import type { BackendChoice } from '../../stages/model/backend-choice.ts';
import { A100 } from './fixtures/cuda.ts';

const quiet = { log: (): void => {} };

describe('model/backends: one object per backend', () => {
  it('the registry: every backend brings its name, tfjs name, package, resources, fixes and hooks; auto order unchanged', () => {
    assert.deepEqual(AUTO_ORDER, ['gpu', 'webgpu', 'node', 'blas', 'wasm', 'cpu']);
    assert.deepEqual(KINDS, ['auto', 'gpu', 'webgpu', 'node', 'blas', 'wasm', 'cpu']);
    assert.equal(new Set(BACKENDS.map((b) => b.name)).size, BACKENDS.length);
    for (const b of BACKENDS) {
      assert.equal(backendOf(b.name), b);
      assert.ok(isBackendName(b.name));
      for (const k of ['tfName', 'package', 'installFix'] as const) assert.equal(typeof b[k], 'string', `${b.name}.${k}`);
      assert.equal(typeof b.onGpu, 'boolean');
      assert.ok(b.resources.cpus! >= 1 && b.resources.memMB! > 0, `${b.name}.resources`);
      for (const k of ['probe', 'register', 'verify', 'memoryLimit', 'deviceKey', 'deviceLabel', 'precisionKey', 'doctor'] as const) {
        assert.equal(typeof b[k], 'function', `${b.name}.${k}`);
      }
      // A GPU backend's key names its device, so its batch nodes must be able to declare one.
      assert.equal(b.declaredDevice !== undefined, b.onGpu, `${b.name}.declaredDevice`);
    }
    assert.deepEqual(BACKENDS.map((b) => [b.name, b.tfName, b.package]), [
      ['gpu', 'tensorflow', '@tensorflow/tfjs-node-gpu'],
      ['webgpu', 'webgpu', '@tensorflow/tfjs-backend-webgpu'],
      ['node', 'tensorflow', '@tensorflow/tfjs-node'],
      ['blas', 'blas', '@tensorflow/tfjs-backend-wasm'],
      ['wasm', 'wasm', '@tensorflow/tfjs-backend-wasm'],
      ['cpu', 'cpu', '@tensorflow/tfjs'],
    ]);
    assert.equal(backendOfTf('tensorflow')?.name, 'gpu');
    assert.equal(backendOfTf('nope'), undefined);
    assert.equal(isBackendName('auto'), false);
    assert.equal(listBackends(), 'gpu, webgpu, node, blas, wasm or cpu');
  });

  it('limits and resources come from the object: wasm 4 GiB heap, cpu typed-array cap, one GPU for GPU backends', () => {
    assert.deepEqual(backendOf('wasm').memoryLimit(), { bytes: 4 * 1024 ** 3, why: 'the wasm backend has a 32-bit heap (4 GiB max)' });
    assert.equal(backendOf('webgpu').memoryLimit().bytes, Number.POSITIVE_INFINITY);
    assert.match(backendOf('gpu').memoryLimit({ device: 'A100', memoryBytes: 2 ** 30 }).why, /GPU memory \(1\.0 GiB\) of A100/);
    assert.ok(backendOf('cpu').maxArrayBytes! > 0);
    assert.equal(backendOf('wasm').maxArrayBytes, undefined);
    assert.deepEqual(backendResources('gpu'), { gpus: 1, cpus: 2, memMB: 16_000 });
    assert.deepEqual(backendResources('webgpu'), { gpus: 1, cpus: 2, memMB: 16_000 });
    for (const b of ['node', 'wasm', 'cpu', 'other', undefined]) assert.deepEqual(backendResources(b), { cpus: 1, memMB: 4_000 });
  });
});

describe('model/backends: gpu precision (TF32 off)', () => {
  const saved = process.env[TF32_ENV];
  const restore = (): void => {
    if (saved === undefined) delete process.env[TF32_ENV];
    else process.env[TF32_ENV] = saved;
  };
  afterEach(async () => {
    restore();
    await selectBackend('cpu', quiet);
    if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
  });

  const fake = (tag: string): string => `${pathToFileURL(path.join(import.meta.dirname, 'fixtures/fake-tfjs-node-gpu.ts')).href}?gpu=1&${tag}`;
  const seams = (module: string) => ({ module, present: () => ({ present: true, reason: 'test' }), deps: { gpus: () => [A100] } });

  it('the gpu backend sets NVIDIA_TF32_OVERRIDE=0 before tfjs-node-gpu (TensorFlow) loads', async () => {
    delete process.env[TF32_ENV];
    const module = fake('tf32-unset');
    const info = await selectBackend('gpu', { ...quiet, gpu: seams(module) });
    assert.equal(info.name, 'gpu');
    const loaded = (await import(module)) as { tf32AtImport?: string };
    assert.equal(loaded.tf32AtImport, '0', 'the stand-in for libtensorflow saw the variable at import');
    assert.equal(process.env[TF32_ENV], '0');
  });

  it("a value the user set is kept, said in the log, and recorded as tf32: true", async () => {
    process.env[TF32_ENV] = '1';
    const module = fake('tf32-user');
    const lines: string[] = [];
    await selectBackend('gpu', { log: (l) => lines.push(l), gpu: seams(module) });
    assert.equal(((await import(module)) as { tf32AtImport?: string }).tf32AtImport, '1');
    assert.match(lines[0], /NVIDIA_TF32_OVERRIDE=1 is set in the environment and kept/);
    assert.equal(lines.length, 2);
  });

  it('the runtime in the cache key records TF32 for gpu (and nothing for the other backends)', () => {
    const choice = (backend: BackendChoice['backend']): BackendChoice => ({ backend, tfjsVersion: '4.22.0', backendPackage: backendOf(backend).package, backendVersion: '4.22.0', tried: [] });
    assert.equal(runtimeOf(choice('gpu'), {}).tf32, false);
    assert.equal(runtimeOf(choice('gpu'), { [TF32_ENV]: '0' }).tf32, false);
    assert.equal(runtimeOf(choice('gpu'), { [TF32_ENV]: '1' }).tf32, true);
    for (const b of ['webgpu', 'node', 'wasm', 'cpu'] as const) assert.equal('tf32' in runtimeOf(choice(b), {}), false, b);
    assert.deepEqual(runtimeOf(choice('wasm'), {}), { backend: 'wasm', tfjsVersion: '4.22.0', backendVersion: '4.22.0' });
    // The state a run will have agrees with what the key says.
    const env: NodeJS.ProcessEnv = {};
    assert.deepEqual(tf32State(env), { tf32: false });
    assert.deepEqual(disableTf32(env), { tf32: false, value: '0' });
    assert.equal(env[TF32_ENV], '0');
  });

  it('doctor says TF32 is off and why, or that the user allowed it; webgpu is plain float32', () => {
    const deps = { libs: { ldLibraryPath: '', cudaRoots: [], ldconfigCache: '' }, gpus: () => [], cudaPresent: () => ({ present: false, reason: 'no /dev/nvidia0' }), adapter: () => ({ ok: false, reason: 'none' }) };
    const off = doctor({ ...deps, env: {} });
    const gpu = off.backends.find((b) => b.name === 'gpu')!;
    assert.match(gpu.precision!, /TF32 off: weakcorr sets NVIDIA_TF32_OVERRIDE=0 before TensorFlow loads, since TF32 rounds matmul inputs to a 10-bit mantissa on Ampere and newer GPUs, which swamps f − f_lin/);
    assert.match(off.backends.find((b) => b.name === 'webgpu')!.precision!, /plain float32 .*no TF32/);
    assert.match(formatDoctor(off), /precision: float32, TF32 off/);
    // Precision is information, not a problem: auto's choice does not change.
    assert.equal(off.auto.backend, doctor(deps).auto.backend);
    const on = doctor({ ...deps, env: { [TF32_ENV]: '1' } }).backends.find((b) => b.name === 'gpu')!;
    assert.match(on.precision!, /TF32 ALLOWED: NVIDIA_TF32_OVERRIDE=1 .*kept.*tf32: true/);
  });
});
