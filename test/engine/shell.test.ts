// The engine's zx shell (pipeline/engine/shell.ts): values reach the command as one argument each,
// whatever they hold, under bash and under a bare /bin/sh; settings are per call, never zx's global ones.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandMissing, shell, shQuote } from '../../pipeline/engine/shell.ts';

const NASTY = ['a b', "it's", 'x"y', '$HOME', '`id`', '$(id)', 'tab\there', 'new\nline', '--opt=a b', '*', ''];
const SHELL_TS = fileURLToPath(new URL('../../pipeline/engine/shell.ts', import.meta.url));

describe('engine: the zx shell', function () {
  this.timeout(30_000);

  it('each interpolated value is one argument, unexpanded; an array is one argument per element', async () => {
    const $ = await shell();
    const out = await $`printf '[%s]\n' ${NASTY} ${'last one'}`;
    assert.equal(out.stdout, [...NASTY, 'last one'].map((v) => `[${v}]\n`).join(''));
  });

  it('with no bash on PATH (zx then runs /bin/sh and has no quoting of its own) the same arguments arrive', () => {
    // zx picks its shell when it loads, from PATH: a fresh process with a PATH that holds no bash.
    const code = `const { shell } = await import(${JSON.stringify(SHELL_TS)});
const $ = await shell();
const out = await $\`/usr/bin/printf '[%s]\\n' \${${JSON.stringify(NASTY)}}\`;
process.stdout.write(out.stdout);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, NASTY.map((v) => `[${v}]\n`).join(''));
  });

  it('shQuote: /bin/sh reads each quoted word back as written', () => {
    const r = spawnSync('/bin/sh', ['-c', `printf '[%s]\\n' ${NASTY.map(shQuote).join(' ')}`], { encoding: 'utf8' });
    assert.equal(r.stdout, NASTY.map((v) => `[${v}]\n`).join(''));
  });

  it('failures: a non-zero exit rejects with its stderr and exit code, or is the reply with nothrow; a missing command is told apart', async () => {
    const $ = await shell();
    const err = await $`sh -c ${'echo broken >&2; exit 3'}`.then(() => undefined, (e: unknown) => e as { exitCode: number; stderr: string });
    assert.equal(err?.exitCode, 3);
    assert.equal(err?.stderr, 'broken\n');
    assert.equal(commandMissing(err), false);
    const missing = await (await shell({ nothrow: true }))`weakcorr-no-such-command-here`;
    assert.equal(missing.ok, false);
    assert.equal(commandMissing(missing), true);
  });

  it('runs in the working directory and environment of the moment it is called, and leaves zx\'s own defaults alone', async () => {
    const { $ } = await import('zx/core');
    const before = { quiet: $.quiet, verbose: $.verbose, nothrow: $.nothrow, cwd: $.cwd };
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-shell-')));
    const cwd = process.cwd();
    process.env.WEAKCORR_SHELL_TEST = 'seen';
    process.chdir(dir);
    try {
      const sh = await shell();
      assert.equal((await sh`pwd`).stdout.trim(), dir);
      assert.equal((await sh`printenv WEAKCORR_SHELL_TEST`).stdout.trim(), 'seen');
      assert.equal((await (await shell({ cwd: os.tmpdir() }))`pwd`).stdout.trim(), fs.realpathSync(os.tmpdir()));
    } finally {
      process.chdir(cwd);
      delete process.env.WEAKCORR_SHELL_TEST;
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual({ quiet: $.quiet, verbose: $.verbose, nothrow: $.nothrow, cwd: $.cwd }, before);
  });
});
