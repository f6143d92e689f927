// gpu-check: one command for a GPU machine (`make gpu-check`, or the air-gapped pack's
// launcher): the doctor, the A.2 step benchmark and a small paper-a2 slice on the best GPU
// backend next to the CPU backend; prints ms per step, GFLOP/s and the projected GPU-hours of
// the full paper-a2 protocol.
//   node --import tsx bench/gpu-check.ts [--quick] [--backend webgpu|gpu] [--cpu wasm|cpu]
//        [--widths 256,1024,2048] [--slice-width 2048] [--slice-steps 20] [--test-size 1000] [--data DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend, type BackendKind, type ConcreteBackend } from '../stages/model/backend.ts';
import { doctor, formatDoctor } from '../stages/model/backends/doctor.ts';
import { backendOf, isBackendName, listBackends } from '../stages/model/backends/index.ts';
import { largestTensors } from '../stages/model/mlp.ts';
import { gunzipBytes, parseIdx } from '../stages/fetch/idx.ts';
import { splitFromBytes, type Split } from '../stages/train/data.ts';
import { trainSideBySide } from '../stages/train/loop.ts';
import { stepFlops } from '../stages/train/metrics.ts';
import { a2Job, type A2RunParams as A2Params } from '../stages/protocols/a2/job.ts';
import { benchSteps, type StepRow } from './model/step.ts';

/** The full paper-a2 protocol (pipeline/experiments/paper-a2.json). */
export const PAPER_A2 = {
  widths: [2048, 2435, 2896, 3444, 4096, 4871, 5793, 6889, 8192, 9741, 11585, 13777, 16384, 19484],
  seeds: 100, alphas: 5, steps: 250, batch: 128, testSize: 10000,
};

export interface Options {
  quick: boolean;
  backend?: ConcreteBackend;
  cpu: ConcreteBackend;
  widths: number[];
  sliceWidth: number;
  sliceSteps: number;
  testSize: number;
  data?: string;
}

/** FLOPs of one paper-a2 run at width n: the SGD steps plus the final net and linearized evaluation. */
export function runFlops(n: number, p = PAPER_A2): number {
  const M = 784 * n + n * n + 10 * n;
  // f over the test set (2 M per sample), f_lin = forward + JVP (about 3x that), at the end.
  return p.steps * stepFlops([784, n, n, 10], p.batch) + 4 * 2 * p.testSize * M;
}

async function loadMnist(dir: string): Promise<{ train: Split; test: Split }> {
  const read = async (f: string): Promise<Uint8Array> => parseIdx(f, await gunzipBytes(f, fs.readFileSync(path.join(dir, f)))).data;
  return {
    train: splitFromBytes(await read('train-images-idx3-ubyte.gz'), await read('train-labels-idx1-ubyte.gz'), 'mnist train'),
    test: splitFromBytes(await read('t10k-images-idx3-ubyte.gz'), await read('t10k-labels-idx1-ubyte.gz'), 'mnist test'),
  };
}

/** Deterministic stand-in images when no MNIST copy is at hand: timing is the same. */
function syntheticMnist(count: number): Split {
  const images = new Uint8Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
  return splitFromBytes(images, Uint8Array.from({ length: count }, (_, i) => i % 10), 'synthetic');
}

function findData(opt?: string): string | undefined {
  const cands = [opt, process.env.WEAKCORR_DATA_MIRROR && path.join(process.env.WEAKCORR_DATA_MIRROR, 'mnist'),
    fileURLToPath(new URL('../../shared/datasets/mnist', import.meta.url))];
  return cands.find((d): d is string => !!d && fs.existsSync(path.join(d, 't10k-images-idx3-ubyte.gz')));
}

interface SliceResult { backend: string; device: string; msPerStep: number; gflops: number; mseTest: number; testLossNet: number }

async function slice(backend: ConcreteBackend, data: { train: Split; test: Split }, o: Options): Promise<SliceResult> {
  const info = await selectBackend(backend, { log: () => {} });
  const p: A2Params = { lr0: 0.1, steps: o.sliceSteps, batch: 128, testSize: o.testSize, activation: 'gelu', depth: 2, lossScale: 1, logEvery: 1_000_000 };
  const job = a2Job(data.train, data.test, p, { width: o.sliceWidth, seed: 0, alpha: -0.5 }, { progress: () => {} });
  // One warm-up step compiles the kernels (shader pipelines on webgpu) outside the timing.
  await trainSideBySide({ ...a2Job(data.train, data.test, { ...p, steps: 1, testSize: 1 }, { width: o.sliceWidth, seed: 1, alpha: -0.5 }, { progress: () => {} }) });
  const t0 = performance.now();
  const out = await trainSideBySide(job);
  const ms = performance.now() - t0;
  if (out.status !== 'ok' || !out.final) throw new Error(`paper-a2 slice on ${backend} ${out.status}`);
  // Time per step including the slice's share of evaluation, as a full run would spend it.
  return {
    backend, device: info.device, msPerStep: ms / o.sliceSteps, gflops: out.flops / ms / 1e6,
    mseTest: out.final.mseTest, testLossNet: out.final.testLossNet,
  };
}

function table(rows: Record<string, string | number>[]): string {
  const keys = Object.keys(rows[0] ?? {});
  const w = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k]).length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(w[i])).join('  ');
  return [line(keys), ...rows.map((r) => line(keys.map((k) => String(r[k]))))].join('\n');
}

export async function gpuCheck(o: Options): Promise<{ gpu: ConcreteBackend | null; hours: number | null }> {
  const log = (s = ''): boolean => process.stdout.write(s + '\n');
  log('== doctor');
  const doc = doctor();
  log(formatDoctor(doc));
  let gpu: ConcreteBackend | null = o.backend ?? (doc.auto.backend && backendOf(doc.auto.backend).onGpu ? doc.auto.backend : null);
  // No hardware GPU: a GPU backend that has a (software) adapter is measured anyway.
  const software = doc.backends.find((b) => backendOf(b.name).onGpu && b.adapter?.ok);
  if (!gpu && software) {
    gpu = software.name;
    log(`\nno hardware GPU backend: measuring ${gpu} on the SOFTWARE adapter (the CPU emulating a GPU; not GPU numbers)`);
  }
  const adapter = doc.backends.find((b) => b.name === gpu)?.adapter;
  const backends = [...(gpu ? [gpu] : []), o.cpu];
  if (!gpu) log('\nno GPU backend is usable here (see the fixes above): measuring the CPU backend only');

  log(`\n== A.2 step benchmark (784-n-n-10 GELU, batch 128, net + linearization, forward + backward)`);
  const steps: Record<string, StepRow[]> = {};
  for (const b of backends) {
    const r = await benchSteps({ backend: b as BackendKind, widths: o.widths, reps: o.quick ? 2 : 5 });
    steps[b] = r.rows;
    log(`${b}: ${r.backend}`);
  }
  log(table(o.widths.map((n, i) => Object.fromEntries([['width', n], ...backends.flatMap((b) => [
    [`${b} ms/step`, steps[b][i].pairMs.toFixed(1)], [`${b} GFLOP/s`, steps[b][i].pairGflops.toFixed(1)]])]))));

  const dir = findData(o.data);
  log(`\n== paper-a2 slice: width ${o.sliceWidth}, ${o.sliceSteps} SGD steps, alpha -0.5, MSE_test on ${o.testSize} test images (${dir ? `MNIST from ${dir}` : 'no MNIST copy found: synthetic images'})`);
  const data = dir ? await loadMnist(dir) : { train: syntheticMnist(4096), test: syntheticMnist(o.testSize) };
  const sl: SliceResult[] = [];
  for (const b of backends) sl.push(await slice(b, data, o));
  log(table(sl.map((s) => ({ backend: s.backend, device: s.device, 'ms/step': s.msPerStep.toFixed(1), 'GFLOP/s': s.gflops.toFixed(1), MSE_test: s.mseTest.toExponential(4), 'test loss': s.testLossNet.toFixed(5) }))));
  if (sl.length === 2) {
    const rel = (a: number, b: number): string => (Math.abs(a - b) / Math.abs(b)).toExponential(2);
    // MSE_test(f, f_lin) is tiny after a few steps: its float32 rounding shows at 1e-2 relative.
    log(`${sl[0].backend} vs ${sl[1].backend}: test loss relative difference ${rel(sl[0].testLossNet, sl[1].testLossNet)}, ` +
      `MSE_test(f, f_lin) relative difference ${rel(sl[0].mseTest, sl[1].mseTest)}`);
  }

  log('\n== projection: the full paper-a2 (14 widths x 100 seeds x 5 alphas x 250 steps, test set 10,000)');
  const best = gpu ?? o.cpu;
  const rows = steps[best];
  // The rate measured at the widest benchmarked width stands for wider nets (GPUs do not get slower with size).
  const top = rows.reduce((a, b) => (b.width > a.width ? b : a));
  const rate = top.pairGflops * 1e9;
  const total = PAPER_A2.widths.reduce((s, n) => s + PAPER_A2.seeds * PAPER_A2.alphas * runFlops(n), 0);
  const hours = total / rate / 3600;
  const limit = adapter?.maxStorageBufferBindingSize;
  const tooWide = limit ? PAPER_A2.widths.filter((n) => largestTensors({ dIn: 784, width: n, depth: 2, activation: 'gelu', parameterization: 'standard' }, 128)[0].bytes > limit) : [];
  log(`total ${(total / 1e15).toFixed(1)} PFLOP at ${(rate / 1e9).toFixed(1)} GFLOP/s (${best}, measured at width ${top.width}): ` +
    `${hours.toFixed(1)} ${gpu ? 'GPU' : 'CPU'}-hours on this device${adapter?.software ? ' (a software adapter: not a GPU)' : ''}`);
  if (tooWide.length) log(`note: widths ${tooWide.join(', ')} exceed this adapter's maxStorageBufferBindingSize (${((limit ?? 0) / 1024 ** 2).toFixed(0)} MiB) and would be refused before training`);
  return { gpu, hours };
}

export function parseArgs(argv: string[]): Options {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const ints = (s: string, flag: string): number[] => s.split(',').map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: expected positive integers, got '${v}'`);
    return n;
  });
  const kind = (s: string | undefined, flag: string): ConcreteBackend | undefined => {
    if (s === undefined) return undefined;
    if (!isBackendName(s)) throw new Error(`--${flag}: expected ${listBackends()}, got '${s}'`);
    return s;
  };
  return {
    quick,
    backend: kind(arg('backend'), 'backend'),
    cpu: kind(arg('cpu'), 'cpu') ?? 'wasm',
    widths: ints(arg('widths') ?? (quick ? '128,256' : '256,1024,2048'), 'widths'),
    sliceWidth: ints(arg('slice-width') ?? (quick ? '256' : '2048'), 'slice-width')[0],
    sliceSteps: ints(arg('slice-steps') ?? (quick ? '4' : '20'), 'slice-steps')[0],
    testSize: ints(arg('test-size') ?? (quick ? '200' : '1000'), 'test-size')[0],
    data: arg('data'),
  };
}

// Run directly (tsx) or as the gpu-pack bundle's entry (gpu-check.mjs).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opts: Options;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`gpu-check: ${(e as Error).message}\n`);
    process.exit(2);
  }
  await gpuCheck(opts);
  process.exit(0);
}
