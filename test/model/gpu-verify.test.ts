import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { selectBackend, tf } from '../../stages/model/backend.ts';
import { assertFitsBackend, backendMemoryLimitBytes } from '../../stages/model/mlp.ts';
import { CUDA_LIBS, scanCudaLibs } from '../../stages/model/backends/cuda-libs.ts';
import { GpuNotUsedError, verifyTfjsNodeGpu } from '../../stages/model/backends/gpu-verify.ts';
import { A100, fakeCudaMachine } from './fixtures/cuda.ts';

const quiet = { log: (): void => {} };

describe('model/backends: honest gpu', () => {
  let machine: ReturnType<typeof fakeCudaMachine>;
  before(async () => {
    machine = fakeCudaMachine();
    await selectBackend('cpu', quiet);
  });
  after(async () => {
    fs.rmSync(machine.dir, { recursive: true, force: true });
    await selectBackend('cpu', quiet);
  });

  it('finds CUDA libraries on LD_LIBRARY_PATH, in CUDA roots and in the ldconfig cache, and names the missing ones', () => {
    const s = scanCudaLibs(machine.env);
    assert.deepEqual(Object.keys(s.found).sort(), ['libcublas.so.11', 'libcudart.so.11.0', 'libcurand.so.10', 'libcusparse.so.11']);
    assert.equal(s.found['libcusparse.so.11'], '/opt/cuda11/libcusparse.so.11');
    assert.equal(s.found['libcurand.so.10'], path.join(machine.env.cudaRoots[0], 'lib64', 'libcurand.so.10'));
    assert.deepEqual(s.missing, ['libcublasLt.so.11', 'libcufft.so.10', 'libcusolver.so.11', 'libcudnn.so.8']);
    assert.equal(CUDA_LIBS.length, 8);
    // Nothing anywhere: all eight missing.
    assert.equal(scanCudaLibs({ ldLibraryPath: '', cudaRoots: [], ldconfigCache: '' }).missing.length, 8);
  });

  it('a backend reporting no GPU device is refused with the missing libraries and the fix', () => {
    assert.throws(() => verifyTfjsNodeGpu({ isUsingGpuDevice: false, isGPUPackage: true }, { libs: machine.env, gpus: () => [A100] }), (e: Error) => {
      assert.ok(e instanceof GpuNotUsedError);
      assert.match(e.message, /registered no GPU device, so it would compute on the CPU/);
      assert.match(e.message, /missing CUDA\/cuDNN libraries: libcublasLt\.so\.11, libcufft\.so\.10, libcusolver\.so\.11, libcudnn\.so\.8/);
      assert.match(e.message, /the driver sees NVIDIA A100-SXM4-80GB, 80\.0 GiB/);
      assert.match(e.message, /Fix: install CUDA 11\.2 and cuDNN 8\.1 .*LD_LIBRARY_PATH.*WEAKCORR_BACKEND=webgpu/);
      return true;
    });
    assert.throws(() => verifyTfjsNodeGpu({}, { libs: machine.env, gpus: () => [] }), /does not report isUsingGpuDevice/);
    assert.equal(verifyTfjsNodeGpu({ isUsingGpuDevice: true }, { gpus: () => [A100] }), 'NVIDIA A100-SXM4-80GB, 80.0 GiB (driver 550.54)');
  });

  const fake = (gpu: 0 | 1): string => `${pathToFileURL(path.join(import.meta.dirname, 'fixtures/fake-tfjs-node-gpu.ts')).href}?gpu=${gpu}`;
  const present = (): { present: boolean; reason: string } => ({ present: true, reason: 'test' });

  it('selectBackend("gpu") fails loudly when the (stand-in) binding reports no GPU; auto skips it with the reason', async () => {
    await assert.rejects(selectBackend('gpu', { ...quiet, gpu: { module: fake(0), present, deps: { libs: machine.env, gpus: () => [] } } }),
      /backend 'gpu' could not be loaded: gpu \(@tensorflow\/tfjs-node-gpu\): tfjs-node-gpu loaded but TensorFlow registered no GPU device.*libcudnn\.so\.8/);
    tf.removeBackend('tensorflow');
    const lines: string[] = [];
    const info = await selectBackend('auto', { log: (l) => lines.push(l), gpu: { module: fake(0) + '&auto', present, deps: { libs: machine.env, gpus: () => [] } } });
    tf.removeBackend('tensorflow');
    assert.notEqual(info.name, 'gpu');
    assert.equal(info.tried[0].name, 'gpu');
    assert.match(info.tried[0].reason, /registered no GPU device.*missing CUDA\/cuDNN libraries/);
    assert.match(lines[0], /skipped gpu: tfjs-node-gpu loaded but TensorFlow registered no GPU device/);
  });

  it('a binding on a GPU device is accepted and the record names the device', async () => {
    const info = await selectBackend('gpu', { ...quiet, gpu: { module: fake(1), present, deps: { gpus: () => [A100] } } });
    assert.equal(info.name, 'gpu');
    assert.equal(info.device, 'NVIDIA A100-SXM4-80GB, 80.0 GiB (driver 550.54)');
    // The memory estimate is checked against the GPU's memory, not the host's.
    const lim = backendMemoryLimitBytes('tensorflow');
    assert.equal(lim.bytes, 81920 * 1024 ** 2);
    assert.match(lim.why, /GPU memory \(80\.0 GiB\) of NVIDIA A100-SXM4-80GB/);
    const spec = { dIn: 784, width: 100_000, depth: 2, activation: 'gelu' as const, parameterization: 'standard' as const };
    assert.throws(() => assertFitsBackend(spec, 128, 'pair', 'tensorflow'), /needs about .* GiB of tensor memory, more than backend 'tensorflow' can hold: GPU memory \(80\.0 GiB\) of NVIDIA A100-SXM4-80GB/);
    assertFitsBackend({ ...spec, width: 19484 }, 128, 'pair', 'tensorflow');
    await selectBackend('cpu', quiet);
    tf.removeBackend('tensorflow');
  });
});
