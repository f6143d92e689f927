import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describeBackendChoice, parseBackendKind, selectBackend, tf } from '../../stages/model/backend.ts';
import { probeOpenblas } from '../../stages/model/backends/openblas.ts';

// auto's CPU pick: blas where OpenBLAS and koffi load (CI installs libopenblas0-pthread), else wasm.
const CPU_AUTO = probeOpenblas().ok ? 'blas' : 'wasm';
const CPU_TRIED = CPU_AUTO === 'blas' ? [['blas', true]] : [['blas', false], ['wasm', true]];

const quiet = { log: (): void => {} };

describe('model/backend', () => {
  after(async () => {
    await selectBackend('cpu', quiet);
  });

  it('auto falls back to blas (OpenBLAS present) or wasm on this machine (no GPU, no hardware WebGPU adapter, no tfjs-node) and records why', async () => {
    const lines: string[] = [];
    const info = await selectBackend('auto', { log: (l) => lines.push(l) });
    assert.equal(info.name, CPU_AUTO);
    assert.equal(info.tfBackend, CPU_AUTO);
    assert.equal(tf.getBackend(), CPU_AUTO);
    assert.equal(info.tfjsVersion, '4.22.0');
    assert.deepEqual(info.tried.map((t) => [t.name, t.ok]), [['gpu', false], ['webgpu', false], ['node', false], ...CPU_TRIED]);
    assert.match(info.tried[0].reason, /no CUDA GPU/);
    // CI installs lavapipe (a software adapter, which auto never picks); elsewhere there may be no adapter.
    assert.match(info.tried[1].reason, /only a software adapter: mesa software|no WebGPU adapter|'webgpu' \(Dawn\) is not installed/);
    assert.match(info.tried[2].reason, /tfjs-node/);
    assert.equal(lines.length, 1);
    assert.match(lines[0], new RegExp(`backend ${CPU_AUTO} on CPU \\(tfjs ${CPU_AUTO}\\).*skipped gpu: .*webgpu: .*node: `));
    if (CPU_AUTO === 'blas') assert.match(lines[0], /OpenBLAS [\d.]+ core \w+ \((detected|selected|OPENBLAS_CORETYPE set by you)/);
    // The backend actually computes.
    assert.deepEqual(Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()), [11]);
  });

  it('asking for node or gpu by name is a clear error, never a fallback', async () => {
    await assert.rejects(selectBackend('node', quiet), /backend 'node' could not be loaded: node \(@tensorflow\/tfjs-node\): /);
    await assert.rejects(selectBackend('gpu', quiet), /backend 'gpu' could not be loaded: gpu \(@tensorflow\/tfjs-node-gpu\): no CUDA GPU/);
  });

  it('cpu and wasm work by name', async () => {
    assert.equal((await selectBackend('cpu', quiet)).name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal((await selectBackend('wasm', quiet)).name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
  });

  it('WEAKCORR_BACKEND is validated', () => {
    assert.equal(parseBackendKind(undefined), 'auto');
    assert.equal(parseBackendKind(' WASM '), 'wasm');
    assert.throws(() => parseBackendKind('cuda'), /unknown backend 'cuda'/);
  });

  it('describeBackendChoice resolves without loading tfjs and agrees with selectBackend', () => {
    const c = describeBackendChoice('auto');
    assert.equal(c.backend, CPU_AUTO);
    assert.equal(c.tfjsVersion, '4.22.0');
    assert.equal(c.backendPackage, '@tensorflow/tfjs-backend-wasm');
    assert.equal(c.backendVersion, '4.22.0');
    assert.deepEqual(c.tried.map((t) => t.name), ['gpu', 'webgpu', 'node', ...CPU_TRIED.map(([n]) => n)]);
    assert.equal(describeBackendChoice('cpu').backend, 'cpu');
    assert.throws(() => describeBackendChoice('node'), /backend 'node' is not available: node: @tensorflow\/tfjs-node is not installed/);
    assert.throws(() => describeBackendChoice('gpu'), /no CUDA GPU/);
    // JSON round trip: usable in a cache key.
    assert.deepEqual(JSON.parse(JSON.stringify(c)), c);
  });

  it('backend-choice.ts, spec.ts and runtime.ts can be used in a parent process without loading tfjs', () => {
    const path = (f: string): string => JSON.stringify(fileURLToPath(new URL(`../../stages/model/${f}`, import.meta.url)));
    const code = `const m = await import(${path('backend-choice.ts')}); const c = m.describeBackendChoice('auto');` +
      `const s = await import(${path('spec.ts')}); s.paramCounts({ dIn: 3, width: 4, depth: 2, activation: 'gelu', parameterization: 'ntk' });` +
      `const r = await import(${path('runtime.ts')}); r.modelRuntime();` +
      `console.log(JSON.stringify({ backend: c.backend, tfjsVersion: c.tfjsVersion, loaded: '_tfengine' in globalThis }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), { backend: CPU_AUTO, tfjsVersion: '4.22.0', loaded: false });
  });

  it("runtime for batch jobs ('remote') comes from WEAKCORR_BACKEND and WEAKCORR_DEVICE, not from this host, and loads no tfjs", () => {
    const runtime = fileURLToPath(new URL('../../stages/model/runtime.ts', import.meta.url));
    const remote = (env: Record<string, string>): { status: number | null; out: string; err: string } => {
      const code = `const r = await import(${JSON.stringify(runtime)}); console.log(JSON.stringify({ rt: r.modelRuntime('remote'), loaded: '_tfengine' in globalThis }));`;
      const p = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, WEAKCORR_BACKEND: '', WEAKCORR_DEVICE: '', ...env } });
      return { status: p.status, out: p.stdout.trim().split('\n').pop() ?? '', err: p.stderr };
    };
    // A hardware adapter this host does not have: the key names what was asked for.
    const webgpu = remote({ WEAKCORR_BACKEND: 'webgpu', WEAKCORR_DEVICE: 'nvidia/hopper/NVIDIA H100 80GB HBM3' });
    assert.equal(webgpu.status, 0, webgpu.err);
    assert.deepEqual(JSON.parse(webgpu.out), { rt: { backend: 'webgpu', tfjsVersion: '4.22.0', backendVersion: '4.22.0', adapter: { vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H100 80GB HBM3' } }, loaded: false });
    // A CPU backend this host could not load still keys as asked (the node checks it has it).
    const cpu = remote({ WEAKCORR_BACKEND: 'cpu' });
    assert.deepEqual(JSON.parse(cpu.out).rt, { backend: 'cpu', tfjsVersion: '4.22.0', backendVersion: '4.22.0' });
    // Nothing asked for: the same as a local run's key.
    const local = JSON.parse(remote({}).out).rt as Record<string, unknown>;
    assert.deepEqual({ ...local, openblas: undefined, blasCore: undefined, blasKernels: undefined }, { backend: CPU_AUTO, tfjsVersion: '4.22.0', backendVersion: '4.22.0', openblas: undefined, blasCore: undefined, blasKernels: undefined });
    if (CPU_AUTO === 'blas') assert.match(`${local.openblas} ${local.blasCore} ${local.blasKernels}`, /^[\d.]+ \w+ \d+$/);
    // gpu needs its package in node_modules (the nodes run this checkout).
    const gpu = remote({ WEAKCORR_BACKEND: 'gpu', WEAKCORR_DEVICE: 'NVIDIA A100-SXM4-80GB, 79.2 GiB' });
    assert.notEqual(gpu.status, 0);
    assert.match(gpu.err, /WEAKCORR_BACKEND=gpu: @tensorflow\/tfjs-node-gpu is not installed/);
  });
});
