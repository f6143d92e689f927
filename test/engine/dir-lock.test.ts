// Locks between processes (dir-lock.ts): a link to the process's token where links can be made,
// a folder otherwise; either kind excludes the other, and a stale one of either kind is taken over.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tryLock, unlock } from '../../pipeline/engine/dir-lock.ts';
import { REPO } from './toy.ts';

const DIR_LOCK = path.join(REPO, 'pipeline/engine/dir-lock.ts');

/** A node process running `body` with tryLock and unlock imported. */
function script(body: string): string[] {
  return ['--import', 'tsx', '--input-type=module', '-e', `import { tryLock, unlock } from ${JSON.stringify(DIR_LOCK)};\n${body}`];
}

describe('dir-lock: locks between processes', function () {
  this.timeout(60_000);
  let dir: string;
  let locks: string;
  let tokens: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-lock-'));
    locks = path.join(dir, 'locks');
    tokens = path.join(dir, 'tmp');
    fs.mkdirSync(locks);
    fs.mkdirSync(tokens);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a lock is a link to the process token (no inode per lock); freed, its path is gone and the token stays for the next', () => {
    const a = path.join(locks, 'a');
    const b = path.join(locks, 'b');
    assert.equal(tryLock(a, 5000, tokens), true);
    assert.equal(tryLock(a, 5000, tokens), false, 'held by this process');
    assert.equal(tryLock(b, 5000, tokens), true);
    const [token, ...more] = fs.readdirSync(tokens);
    assert.equal(more.length, 0, 'one token for both locks');
    assert.match(token!, new RegExp(`^lock-token\\.${process.pid}\\.[0-9a-f]+$`), 'named like a temp file, so gc removes one a killed process left');
    const ino = fs.statSync(path.join(tokens, token!)).ino;
    assert.equal(fs.statSync(`${a}.lock`).ino, ino);
    assert.equal(fs.statSync(`${b}.lock`).ino, ino);
    unlock(a);
    assert.equal(fs.existsSync(`${a}.lock`), false);
    assert.equal(fs.existsSync(`${b}.lock`), true, 'the other lock is still held');
    unlock(b);
    assert.deepEqual(fs.readdirSync(locks), []);
  });

  it('a fresh lock of either kind excludes, a stale one of either kind is taken over', () => {
    const old = new Date(Date.now() - 60_000);
    for (const kind of ['folder', 'link'] as const) {
      const f = path.join(locks, kind);
      if (kind === 'folder') fs.mkdirSync(`${f}.lock`); // an older engine's lock
      else {
        fs.writeFileSync(path.join(tokens, 'other'), ''); // another process's token, and its link
        fs.linkSync(path.join(tokens, 'other'), `${f}.lock`);
      }
      assert.equal(tryLock(f, 5000, tokens), false, `a fresh ${kind} is held`);
      fs.utimesSync(`${f}.lock`, old, old);
      assert.equal(tryLock(f, 5000, tokens), true, `a stale ${kind} is taken over`);
      assert.ok(fs.statSync(`${f}.lock`).isFile(), 'now a link of ours');
      unlock(f);
      fs.rmSync(path.join(tokens, 'other'), { force: true });
    }
  });

  it('without a token folder, or where the token cannot be made, the lock is a folder; errors of the lock path are thrown', () => {
    const f = path.join(locks, 'f');
    assert.equal(tryLock(f, 5000), true);
    assert.ok(fs.statSync(`${f}.lock`).isDirectory());
    unlock(f);
    assert.equal(fs.existsSync(`${f}.lock`), false);
    const g = path.join(locks, 'g');
    assert.equal(tryLock(g, 5000, path.join(dir, 'no-such-folder')), true);
    assert.ok(fs.statSync(`${g}.lock`).isDirectory());
    unlock(g);
    assert.throws(() => tryLock(path.join(dir, 'no-locks-here', 'h'), 5000, tokens), /ENOENT/);
  });

  it('another process is excluded while it lives; its lock and token are gone when it exits, and its lock is taken over once it was SIGKILLed', async () => {
    const f = path.join(locks, 'k');
    // A holder that exits normally leaves nothing behind.
    const done = spawnSync(process.execPath, script(`tryLock(${JSON.stringify(f)}, 2000, ${JSON.stringify(tokens)}) || process.exit(3);`), { encoding: 'utf8' });
    assert.equal(done.status, 0, done.stderr);
    assert.deepEqual([fs.readdirSync(locks), fs.readdirSync(tokens)], [[], []]);
    // A holder that is killed: held (refreshed) while it lives, stale 2 s after it died.
    const child = spawn(process.execPath, script(`tryLock(${JSON.stringify(f)}, 2000, ${JSON.stringify(tokens)}) || process.exit(3); console.log('held'); setInterval(() => {}, 1000);`), { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', () => resolve());
      child.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
    });
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(tryLock(f, 2000, tokens), false, 'refreshed by its live holder past the stale limit');
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const t0 = Date.now();
    while (!tryLock(f, 2000, tokens)) {
      assert.ok(Date.now() - t0 < 10_000, 'taken over within the stale limit');
      await new Promise((r) => setTimeout(r, 100));
    }
    unlock(f);
  });
});
