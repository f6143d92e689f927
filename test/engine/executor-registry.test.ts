// An executor is an object in the registry: a toy one (toy-executor.ts, its only module) gets
// its flag on `run`, keys, plans, runs and takes part in gc with no other file of the engine
// touched. Runs the CLI in this process, since registering is a call in this process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../../pipeline/engine/cli/index.ts';
import { registerExecutor } from '../../pipeline/engine/executors/registry.ts';
import type { Project } from '../../pipeline/engine/types.ts';
import { inlineExecutor } from './toy-executor.ts';
import { makeToy, type Toy } from './toy.ts';

describe('engine: an executor is one module and one registry line', function () {
  this.timeout(60_000);
  let toy: Toy;
  let project: Project;
  let unregister: () => void;
  const saved = { ...process.env };

  before(async () => {
    toy = makeToy();
    Object.assign(process.env, { WEAKCORR_CACHE: toy.cache, TOY_LOG: toy.log, CI: '1' });
    delete process.env.TOY_EXECUTOR;
    project = ((await import(pathToFileURL(path.join(toy.dir, 'project.ts')).href)) as { project: Project }).project;
    unregister = registerExecutor(inlineExecutor);
  });
  after(() => {
    unregister();
    for (const k of ['WEAKCORR_CACHE', 'TOY_LOG', 'CI', 'TOY_EXECUTOR']) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    fs.rmSync(toy.dir, { recursive: true, force: true });
  });

  /** The CLI in this process, its output captured. */
  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = { stdout: '', stderr: '' };
    const write = { stdout: process.stdout.write, stderr: process.stderr.write };
    process.stdout.write = ((s: string | Uint8Array) => ((out.stdout += String(s)), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string | Uint8Array) => ((out.stderr += String(s)), true)) as typeof process.stderr.write;
    const exitCode = process.exitCode;
    try {
      const code = await runCli(project, args);
      return { code, ...out };
    } finally {
      process.stdout.write = write.stdout;
      process.stderr.write = write.stderr;
      process.exitCode = exitCode;
    }
  }

  it('brings its flag to run, plans, runs, is remembered for status, and joins gc', async () => {
    const help = await cli(['run', '--help']);
    assert.match(help.stdout, /--inline-label <text>/);
    assert.match(help.stdout, /inline:\s+ignored,\s+one at a time/);

    const dry = await cli(['run', '--executor', 'inline', '--dry-run', '--inline-label', 'toy']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /inline \(toy\): gen 3, square 3, total 1/);

    const run = await cli(['run', '--executor', 'inline', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).executed, 7);
    assert.equal(toy.executions().length, 7);

    // Read commands key as the last run's executor did.
    const st = await cli(['status', '--json']);
    assert.equal(JSON.parse(st.stdout).counts.cached, 7);

    const gc = await cli(['gc', '--dry-run', '--json']);
    assert.equal(gc.code, 0, gc.stderr);
    assert.equal(JSON.parse(gc.stdout).removedInline, 0);
  });

  it('an unknown executor is a usage error naming every registered one (exit 2)', async () => {
    const r = await cli(['run', '--executor', 'nowhere']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /local, slurm, inline/);
  });
});
