// The report's git provenance, read by running git (through zx) in a real repository whose path
// has spaces, quotes and a `$`: commit, branch and dirtiness as git itself states them.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gitState } from '../../stages/report/provenance.ts';

describe('report: git provenance', function () {
  this.timeout(30_000);
  let tmp: string;
  let repo: string;
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, encoding: 'utf8' }).trim();

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-provenance-'));
    repo = path.join(tmp, `a repo's "checkout" $HOME`);
    fs.mkdirSync(repo);
    git('init', '-q', '-b', 'side-branch');
    fs.writeFileSync(path.join(repo, 'tracked.txt'), 'one\n');
    git('add', 'tracked.txt');
    git('commit', '-q', '-m', 'first');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a clean checkout: its commit and branch, not dirty; an untracked file leaves it clean', async () => {
    fs.writeFileSync(path.join(repo, 'untracked.txt'), 'x\n');
    assert.deepEqual(await gitState(repo), { commit: git('rev-parse', 'HEAD'), dirty: false, branch: 'side-branch' });
    fs.rmSync(path.join(repo, 'untracked.txt'));
  });

  it('a changed tracked file makes it dirty; a detached HEAD has branch HEAD', async () => {
    fs.writeFileSync(path.join(repo, 'tracked.txt'), 'two\n');
    try {
      assert.equal((await gitState(repo)).dirty, true);
    } finally {
      git('checkout', '-q', '--', 'tracked.txt');
    }
    const head = git('rev-parse', 'HEAD');
    git('checkout', '-q', '--detach');
    try {
      assert.deepEqual(await gitState(repo), { commit: head, dirty: false, branch: 'HEAD' });
    } finally {
      git('checkout', '-q', 'side-branch');
    }
  });

  it('outside a checkout (and in a folder that does not exist): unknown, not an error', async () => {
    const plain = path.join(tmp, 'not a repo');
    fs.mkdirSync(plain);
    const unknown = { commit: 'unknown (not a git checkout)', dirty: false, branch: null };
    // GIT_CEILING_DIRECTORIES: git must not find a repository above the temp folder.
    const ceiling = process.env.GIT_CEILING_DIRECTORIES;
    process.env.GIT_CEILING_DIRECTORIES = tmp;
    try {
      assert.deepEqual(await gitState(plain), unknown);
      assert.deepEqual(await gitState(path.join(tmp, 'gone')), unknown);
    } finally {
      if (ceiling === undefined) delete process.env.GIT_CEILING_DIRECTORIES;
      else process.env.GIT_CEILING_DIRECTORIES = ceiling;
    }
  });

  it('by default, this repository: the commit git reports here', async () => {
    const root = path.resolve(new URL('../..', import.meta.url).pathname);
    const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
    assert.equal((await gitState()).commit, r.status === 0 ? r.stdout.trim() : 'unknown (not a git checkout)');
  });
});
