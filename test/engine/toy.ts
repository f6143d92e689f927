// A toy project written into a temp dir, so tests can edit its code and config like a user would.
// It knows nothing about neural networks: numbers in, numbers out.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TYPES = path.join(REPO, 'pipeline/engine/types.ts');

const stageFile = (body: string): string => `import type { StageDecl } from ${JSON.stringify(TYPES)};
import fs from 'node:fs';
const note = (id: string): void => { if (process.env.TOY_LOG) fs.appendFileSync(process.env.TOY_LOG, id + '\\n'); };
${body}
`;

export const GEN = stageFile(`
// gen: one task per item; the 'note' param changes the key but never the output bytes.
// It reads a data file by 'new URL(..., import.meta.url)': the engine must key it by content.
const bias = (JSON.parse(fs.readFileSync(new URL('../data/bias.json', import.meta.url), 'utf8')) as { bias: number }).bias;
export const gen: StageDecl = {
  name: 'gen', module: import.meta.url, params: ['scale', 'note', 'fail'],
  matrix: { item: { key: 'items', prefix: 'i' } },
  outputs: { value: { kind: 'json', schema: { type: 'object', required: ['value'], properties: { value: { type: 'number' } } } } },
  async run(ctx) {
    note(ctx.id);
    const item = ctx.axes.item as number;
    if ((ctx.params.fail as number[]).includes(item)) throw new Error('toy failure for item ' + item);
    await ctx.writeJson('value', { value: item * (ctx.params.scale as number) + bias });
  },
};
`);

export const SQUARE = stageFile(`
// square: one task per item, reads its gen task.
export const square: StageDecl = {
  name: 'square', module: import.meta.url, params: ['offset'],
  matrix: { item: { key: 'items', prefix: 'i' } },
  needs: [{ stage: 'gen' }],
  outputs: { value: { kind: 'json' }, raw: { kind: 'bytes' } },
  metrics: { read: (o) => ({ value: (o.value as { value: number }).value }) },
  async run(ctx) {
    note(ctx.id);
    const up = ctx.inputs.gen[0];
    const { value } = await ctx.readJson<{ value: number }>(up.outputs.value);
    // Slowness comes from the environment so it never changes a key.
    if (process.env.TOY_SLOW_ITEM === 'all' || Number(process.env.TOY_SLOW_ITEM) === ctx.axes.item) {
      await ctx.writeBytes('raw', Buffer.alloc(64, value));
      if (process.env.TOY_MARK) fs.writeFileSync(process.env.TOY_MARK, ctx.id);
      const ms = Number(process.env.TOY_SLEEP_MS ?? 0);
      for (let i = 0; i < 20; i++) { ctx.progress(i, 20); await new Promise((r) => setTimeout(r, ms / 20)); }
      // TOY_GATE: then wait until that file exists (a test opens it when it has seen what it waits for).
      while (process.env.TOY_GATE && !fs.existsSync(process.env.TOY_GATE)) await new Promise((r) => setTimeout(r, 100));
      await ctx.writeJson('value', { value: value * value + (ctx.params.offset as number) });
      return;
    }
    await ctx.writeBytes('raw', Buffer.alloc(64, value));
    await ctx.writeJson('value', { value: value * value + (ctx.params.offset as number) });
  },
};
`);

export const TOTAL = stageFile(`
// total: one task over every square task.
export const total: StageDecl = {
  name: 'total', module: import.meta.url, params: [], perExperiment: true, wantsLineage: true,
  needs: [{ stage: 'square', on: {}, outputs: ['value'] }],
  outputs: { sum: { kind: 'json', publish: 'out/{experiment}/sum.json' } },
  metrics: { headline: true, read: (o) => ({ sum: (o.sum as { sum: number }).sum }) },
  async run(ctx) {
    note(ctx.id);
    let sum = 0;
    for (const t of ctx.inputs.square) sum += (await ctx.readJson<{ value: number }>(t.outputs.value)).value;
    const upstream = ctx.lineage.map((l) => l.id).sort();
    await ctx.writeJson('sum', { sum, n: ctx.inputs.square.length, experiment: ctx.experiment, upstream });
  },
};
`);

const PROJECT = `import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Project } from ${JSON.stringify(TYPES)};
import { gen } from './stages/gen.ts';
import { square } from './stages/square.ts';
import { total } from './stages/total.ts';
const root = path.dirname(fileURLToPath(import.meta.url));
export const project: Project = {
  name: 'toy', module: fileURLToPath(import.meta.url), root,
  stages: [total, square, gen],
  experimentsDir: path.join(root, 'experiments'), defaultExperiment: 'default',
  experimentSchema: {
    type: 'object', additionalProperties: false, required: ['items', 'scale'],
    properties: {
      items: { type: 'array', items: { type: 'integer' } },
      scale: { type: 'number' },
      note: { type: 'string', default: '' },
      offset: { type: 'number', default: 0 },
      fail: { type: 'array', items: { type: 'integer' }, default: [] },
    },
  },
  cacheEnvVar: 'WEAKCORR_CACHE', defaultCacheDir: '.cache',
};
`;

export interface Toy {
  dir: string;
  cache: string;
  log: string;
  mark: string;
  writeConfig(config: Record<string, unknown>): void;
  edit(file: 'gen' | 'square' | 'total', f: (src: string) => string): void;
  /** Runs the CLI to completion. */
  cli(args: string[], env?: Record<string, string>, cwd?: string): { code: number; stdout: string; stderr: string; json: any };
  /** Starts the CLI without waiting. */
  spawnCli(args: string[], env?: Record<string, string>): ReturnType<typeof spawn>;
  executions(): string[];
  resetLog(): void;
}

/**
 * A fresh toy project with its config, in a new temp dir, or in `at` (made, and left there for
 * `toyAt`: a bench keeps a large built store between sessions).
 */
export function makeToy(config: Record<string, unknown> = { items: [1, 2, 3], scale: 2 }, at?: string): Toy {
  let dir: string;
  if (at) fs.mkdirSync((dir = at), { recursive: true });
  else dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-toy-'));
  fs.mkdirSync(path.join(dir, 'stages'));
  fs.mkdirSync(path.join(dir, 'experiments'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data/bias.json'), '{"bias": 0}\n');
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
  fs.writeFileSync(path.join(dir, 'project.ts'), PROJECT);
  fs.writeFileSync(path.join(dir, 'stages/gen.ts'), GEN);
  fs.writeFileSync(path.join(dir, 'stages/square.ts'), SQUARE);
  fs.writeFileSync(path.join(dir, 'stages/total.ts'), TOTAL);
  const toy = toyAt(dir);
  toy.writeConfig(config);
  return toy;
}

/** The toy project made by makeToy in `dir`, as it is (nothing is written). */
export function toyAt(dir: string): Toy {
  const cache = path.join(dir, 'store');
  const log = path.join(dir, 'executions.log');
  const mark = path.join(dir, 'started.mark');
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...process.env, WEAKCORR_PROJECT: path.join(dir, 'project.ts'), WEAKCORR_CACHE: cache, TOY_LOG: log, TOY_MARK: mark, CI: '1', ...extra,
  });
  const argv = (args: string[]): string[] => [path.join(REPO, 'bin/weakcorr.js'), ...args];
  const toy: Toy = {
    dir, cache, log, mark,
    writeConfig(c) {
      fs.writeFileSync(path.join(dir, 'experiments/default.json'), JSON.stringify(c, null, 2));
    },
    edit(file, f) {
      const p = path.join(dir, 'stages', `${file}.ts`);
      fs.writeFileSync(p, f(fs.readFileSync(p, 'utf8')));
    },
    cli(args, extra, cwd = dir) {
      const r = spawnSync(process.execPath, argv(args), { env: env(extra), encoding: 'utf8', cwd, maxBuffer: 256 * 1024 * 1024 });
      let json: unknown;
      if (args.includes('--json')) {
        try { json = JSON.parse(r.stdout); } catch { json = undefined; }
      }
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
    },
    spawnCli(args, extra) {
      return spawn(process.execPath, argv(args), { env: env(extra), cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    executions() {
      return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    },
    resetLog() {
      fs.rmSync(log, { force: true });
    },
  };
  return toy;
}
