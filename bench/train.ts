// Training-step speed: weakcorr (tfjs: the blas backend where OpenBLAS loads, and wasm) against the
// same explicit algorithm in PyTorch CPU with the same thread count (bench/torch/step_bench.py), on
// the same OpenBLAS core (the best this CPU supports; both sides print theirs). Goal: within 1.5x.
// Fair baseline (docs: measured.md): the PyTorch side updates in place like torch.optim.SGD and
// reuses its gradient buffers; the two sides run interleaved, step by step, so machine noise hits
// both alike; medians are printed with their spread (min-max) and the BLAS settings used.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { selectBackend, tf, type BackendKind } from '../stages/model/backend.ts';
import { PairTrainer, disposeParams, hostToParams, initHostParams, type MlpSpec } from '../stages/model/mlp.ts';
import { CORE_ENV, probeOpenblas } from '../stages/model/backends/openblas.ts';
import { median } from './timing.ts';
import { AbsoluteStorageTrainer } from '../test/train/absolute-trainer.ts';

const SCRIPT = fileURLToPath(new URL('./torch/step_bench.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

export interface Sample { width: number; ours: number[]; torch: number[]; /** tfjs ops (kernel calls) in one of our pair steps */ ops: number }

/** A step_bench.py --serve process, driven one command at a time. */
async function torchServer(threads: number, core?: string): Promise<{ ask: (cmd: string) => Promise<Record<string, unknown>>; settings: Record<string, unknown>; close: () => void }> {
  // The best core this CPU supports: OpenBLAS's own detection, or the core our blas backend selects
  // where that detection is generic (openblas.ts); never an inherited OPENBLAS_CORETYPE (benchTrain).
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  delete env[CORE_ENV];
  if (core) env[CORE_ENV] = core;
  const p = spawn(PYTHON, [SCRIPT, '--serve', String(threads)], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next();
    if (r.done) throw new Error(`PyTorch not usable: ${stderr.trim().split('\n').at(-1) ?? 'no output'}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const settings = await next();
  return {
    settings,
    ask: (cmd) => {
      p.stdin.write(cmd + '\n');
      return next();
    },
    close: () => {
      p.stdin.end('quit\n');
    },
  };
}

/** Interleaved: one timed pair step of ours, then one of PyTorch, `rounds` times per width. */
export async function interleavedSteps(widths: number[], rounds: number, backend: BackendKind = 'wasm', torchCore?: string): Promise<{ backend: string; settings: Record<string, unknown>; rows: Sample[] }> {
  const info = await selectBackend(backend, { log: () => {} });
  const torch = await torchServer(1, torchCore);
  const rows: Sample[] = [];
  try {
    for (const n of widths) {
      const spec: MlpSpec = { dIn: 784, width: n, depth: 2, activation: 'gelu', parameterization: 'standard' };
      const p0 = hostToParams(initHostParams(spec, 0));
      const tr = new PairTrainer(spec, p0, { lr: 0.1, batch: 128 });
      disposeParams(p0);
      const x = tf.randomUniform([128, 784]) as tf.Tensor2D;
      const y = tf.randomUniform([128, 10]) as tf.Tensor2D;
      await tr.stepAsync(x, y); // warm-up
      // One more untimed step, profiled: how many tfjs ops a pair step runs (fused kernels count one each).
      const ops = (await tf.profile(async () => void (await tr.stepAsync(x, y)))).kernels.length;
      await torch.ask(`init ${n}`);
      const s: Sample = { width: n, ours: [], torch: [], ops };
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        await tr.stepAsync(x, y);
        s.ours.push(performance.now() - t0);
        const t = await torch.ask('step');
        s.torch.push((t.net_ms as number) + (t.lin_ms as number));
      }
      rows.push(s);
      tr.dispose();
      tf.dispose([x, y]);
    }
  } finally {
    torch.close();
  }
  return { backend: `${info.name} on ${info.device} (tfjs ${info.tfjsVersion})`, settings: torch.settings, rows };
}

export async function benchTrain(widths = [256, 1024, 2048], rounds = Number(process.env.BENCH_ROUNDS ?? 9)): Promise<string[]> {
  if (!existsSync(PYTHON)) return [`PyTorch comparison skipped: ${PYTHON} not found`];
  const lines: string[] = [];
  // Both sides on the best core: an inherited OPENBLAS_CORETYPE (some machines set Haswell, below
  // this CPU's AVX-512 kernels) is set aside for the bench, before OpenBLAS loads in this process.
  const inherited = process.env[CORE_ENV];
  if (inherited) {
    delete process.env[CORE_ENV];
    lines.push(`${CORE_ENV}=${inherited} from the environment set aside: both sides run the best core this CPU supports`);
  }
  const blas = probeOpenblas();
  const torchCore = blas.ok ? blas.env[CORE_ENV] : undefined;
  const backends: BackendKind[] = blas.ok ? ['blas', 'wasm'] : ['wasm'];
  if (!blas.ok) lines.push(`blas backend not benchmarked: ${blas.reason}`);
  const spread = (v: number[]): string => `${median(v).toFixed(1)} [${Math.min(...v).toFixed(1)}-${Math.max(...v).toFixed(1)}]`;
  for (const backend of backends) {
    let res: Awaited<ReturnType<typeof interleavedSteps>>;
    try {
      res = await interleavedSteps(widths, rounds, backend, torchCore);
    } catch (e) {
      return [...lines, `PyTorch comparison skipped: ${(e as Error).message}`];
    }
    const st = res.settings;
    lines.push(
      '',
      `ours: ${res.backend}, 1 thread. PyTorch ${st.torch}: ${st.torch_threads} thread, BLAS ${(st.blas_loaded as string[]).filter((l) => /openblas|blas/i.test(l)).pop() ?? st.blas}, ` +
        `core ${st.core ?? 'unknown'} (${st.config ?? ''}; ${st.via}), BLAS threads ${st.blas_threads}, ` +
        `OPENBLAS_NUM_THREADS=${st.OPENBLAS_NUM_THREADS}, ${CORE_ENV} ${st.OPENBLAS_CORETYPE ?? 'unset'}; in-place SGD updates, reused gradient buffers`,
    );
    if (backend === 'blas' && blas.core && st.core && String(st.core).toLowerCase() !== blas.core.toLowerCase()) {
      lines.push(`WARNING: different OpenBLAS cores: ours ${blas.core}, PyTorch ${String(st.core)}`);
    }
    lines.push(
      `batch 128, 784-n-n-10 GELU, net + linearized step; ${rounds} rounds interleaved (ours, PyTorch, ours, ...); median [min-max] ms`,
      'width | ours pair ms | PyTorch pair ms | ratio of medians ours/PyTorch | our tfjs ops per step',
    );
    for (const r of res.rows) lines.push([r.width, spread(r.ours), spread(r.torch), (median(r.ours) / median(r.torch)).toFixed(2), r.ops].join(' | '));
  }
  return lines;
}

/**
 * Issue 19's cost: a pair step with the net stored as theta0 + displacement (PairTrainer) against
 * the old absolute storage (the test fixture), interleaved step by step on the same data.
 */
export async function benchStorage(widths = [256, 1024, 2048], rounds = 9, backend: BackendKind = 'wasm'): Promise<string[]> {
  const info = await selectBackend(backend, { log: () => {} });
  const spread = (v: number[]): string => `${median(v).toFixed(1)} [${Math.min(...v).toFixed(1)}-${Math.max(...v).toFixed(1)}]`;
  const lines = [
    `${info.name} on ${info.device}, batch 128, 784-n-n-10 GELU, net + linearized step; ${rounds} rounds interleaved (old, new, old, ...); median [min-max] ms`,
    'width | old (absolute storage) ms | new (theta0 + displacement) ms | new/old (medians)',
  ];
  for (const n of widths) {
    const spec: MlpSpec = { dIn: 784, width: n, depth: 2, activation: 'gelu', parameterization: 'standard' };
    const p0 = hostToParams(initHostParams(spec, 0));
    const old = new AbsoluteStorageTrainer(spec, p0, { lr: 1e-4, batch: 128 });
    const neu = new PairTrainer(spec, p0, { lr: 1e-4, batch: 128 });
    disposeParams(p0);
    const x = tf.randomUniform([128, 784]) as tf.Tensor2D;
    const y = tf.randomUniform([128, 10]) as tf.Tensor2D;
    await old.stepAsync(x, y); // warm-up
    await neu.stepAsync(x, y);
    const o: number[] = [];
    const w: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let t0 = performance.now();
      await old.stepAsync(x, y);
      o.push(performance.now() - t0);
      t0 = performance.now();
      await neu.stepAsync(x, y);
      w.push(performance.now() - t0);
    }
    lines.push([n, spread(o), spread(w), (median(w) / median(o)).toFixed(3)].join(' | '));
    old.dispose();
    neu.dispose();
    tf.dispose([x, y]);
  }
  return lines;
}

/**
 * Issue 26's cost: evaluating f - f_lin on a batch in difference form (PairTrainer.predictDeviations:
 * one theta0 trace with phi', phi'', phi''', the JVP and the difference propagation) against the
 * plain evaluation (a net forward pass and f_lin's forward + JVP), interleaved, next to a training
 * step (which is unchanged). A step that logs A.2's mseBatch costs step + one evaluation.
 */
export async function benchDifferenceForm(widths = [256, 1024, 2048], rounds = 9, backend: BackendKind = 'wasm'): Promise<string[]> {
  const info = await selectBackend(backend, { log: () => {} });
  const spread = (v: number[]): string => `${median(v).toFixed(1)} [${Math.min(...v).toFixed(1)}-${Math.max(...v).toFixed(1)}]`;
  const lines = [
    `${info.name} on ${info.device}, batch 128, 784-n-n-10 GELU; ${rounds} rounds interleaved (step, plain evaluation, difference form, ...); median [min-max] ms`,
    'width | training step ms | plain evaluation ms | difference-form evaluation ms | evaluation diff/plain | logged step (step + evaluation) diff/plain',
  ];
  for (const n of widths) {
    const spec: MlpSpec = { dIn: 784, width: n, depth: 2, activation: 'gelu', parameterization: 'standard' };
    const p0 = hostToParams(initHostParams(spec, 0));
    const tr = new PairTrainer(spec, p0, { lr: 1e-4, batch: 128 });
    disposeParams(p0);
    const x = tf.randomUniform([128, 784]) as tf.Tensor2D;
    const y = tf.randomUniform([128, 10]) as tf.Tensor2D;
    const plain = async (): Promise<void> => {
      const out = tf.tidy(() => [tr.predictNet(x), tr.predictLin(x)]);
      await Promise.all(out.map((t) => t.data()));
      tf.dispose(out);
    };
    const diff = async (): Promise<void> => {
      const d = tr.predictDeviations(x);
      const out = [d.f0, d.df, d.dlin];
      await Promise.all(out.map((t) => t.data()));
      tf.dispose(out);
    };
    await tr.stepAsync(x, y); // warm-up, and a nonzero displacement
    await plain();
    await diff();
    const [st, pl, df]: number[][] = [[], [], []];
    for (let r = 0; r < rounds; r++) {
      let t0 = performance.now();
      await tr.stepAsync(x, y);
      st.push(performance.now() - t0);
      t0 = performance.now();
      await plain();
      pl.push(performance.now() - t0);
      t0 = performance.now();
      await diff();
      df.push(performance.now() - t0);
    }
    const [ms, mp, md] = [median(st), median(pl), median(df)];
    lines.push([n, spread(st), spread(pl), spread(df), (md / mp).toFixed(3), ((ms + md) / (ms + mp)).toFixed(3)].join(' | '));
    tr.dispose();
    tf.dispose([x, y]);
  }
  return lines;
}

if (process.argv[1] && import.meta.url.endsWith('/bench/train.ts') && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const line of await benchTrain()) console.log(line);
}
