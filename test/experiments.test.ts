// Every shipped experiment file validates against the experiment schema and plans (a dry run):
// the README's worked examples name them, so none may be broken.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = path.join(root, 'pipeline/experiments');
const names = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();

describe('shipped experiments: each validates and plans', function () {
  this.timeout(120_000);
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-exp-'));
  after(() => fs.rmSync(cache, { recursive: true, force: true }));

  it('ships the five documented experiments', () => {
    for (const n of ['ci', 'quick', 'workstation', 'paper-a1', 'paper-a2']) assert.ok(names.includes(n), `pipeline/experiments/${n}.json missing`);
  });

  it("make stage's usage line names every stage of the project", () => {
    const r = spawnSync(process.execPath, ['bin/weakcorr.js', 'dag', '--json'], { cwd: root, encoding: 'utf8', env: { ...process.env, WEAKCORR_CACHE: cache } });
    assert.equal(r.status, 0, r.stderr);
    const stages = (JSON.parse(r.stdout) as { stage: string }[]).map((s) => s.stage);
    const usage = /usage: make stage STAGE=<([^>]*)>/.exec(fs.readFileSync(path.join(root, 'Makefile'), 'utf8'))?.[1];
    assert.ok(usage, 'Makefile: no `make stage` usage line');
    assert.deepEqual(usage.split('|').sort(), [...stages].sort());
  });

  for (const name of names) {
    it(`${name}: run -n plans every stage and exits 0`, () => {
      const r = spawnSync(process.execPath, ['bin/weakcorr.js', 'run', '--experiment', name, '-n'], {
        cwd: root, encoding: 'utf8', env: { ...process.env, WEAKCORR_CACHE: cache, CI: '1' },
      });
      assert.equal(r.status, 0, `${name}: exit ${r.status}\n${r.stderr}\n${r.stdout}`);
      assert.match(r.stdout, /\d+ to run/, r.stdout);
      assert.match(r.stdout, /^report\s+1\s/m, `${name}: no report task planned\n${r.stdout}`);
    });
  }

  it('a config that contradicts itself fails at plan time, exit 2, naming its own section\'s keys', () => {
    for (const [set, names] of [['correlate.samples=1000', /correlate\.samples is 1000.*a1\.trainSamples \+ a1\.testSamples/], ['meanfield.samples=1000', /meanfield\.samples is 1000.*meanfield\.trainSamples \+ meanfield\.testSamples/], ['fit.widest=1', /config 'fit\.widest': one width fits no slope/]] as const) {
      const r = spawnSync(process.execPath, ['bin/weakcorr.js', 'status', '--experiment', 'ci', '--set', set], {
        cwd: root, encoding: 'utf8', env: { ...process.env, WEAKCORR_CACHE: cache, CI: '1' },
      });
      assert.equal(r.status, 2, `${set}: exit ${r.status}\n${r.stderr}`);
      assert.match(r.stderr, names);
      if (set.startsWith('meanfield')) assert.doesNotMatch(r.stderr, /a1\./);
    }
  });
});
