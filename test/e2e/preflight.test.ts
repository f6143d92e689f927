// weakcorr's own environment and config mistakes are caught before any task runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cudaGpuPresent } from '../../stages/model/backend-choice.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

describe('e2e: mistakes caught up front on the ci experiment', function () {
  this.timeout(120_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-preflight-'));
  const store = path.join(tmp, 'store');
  const env = { ...process.env, WEAKCORR_CACHE: store, WEAKCORR_DATA_DIR: path.join(tmp, 'data'), WEAKCORR_PUBLISH_ROOT: tmp, WEAKCORR_OFFLINE: '1', CI: '1' };
  const cli = (args: string[], extra: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string; ms: number } => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), ...args], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
  };
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('WEAKCORR_BACKEND=bogus (or gpu without one): one line naming the variable, exit 2, nothing fetched or stored', function () {
    const kinds = cudaGpuPresent().present ? ['bogus'] : ['bogus', 'gpu'];
    for (const backend of kinds) {
      for (const args of [['run', '--experiment', 'ci', '--jobs', '2'], ['status', '--experiment', 'ci'], ['run', '--dry-run', '--experiment', 'ci']]) {
        const r = cli(args, { WEAKCORR_BACKEND: backend });
        assert.equal(r.code, 2, `${backend} ${args.join(' ')}: ${r.stderr}`);
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0]!, backend === 'bogus' ? /unknown backend 'bogus'.*WEAKCORR_BACKEND/ : /backend 'gpu' is not available/);
      }
    }
    assert.equal(fs.existsSync(store), false, 'the store was not even created');
    assert.equal(fs.existsSync(path.join(tmp, 'data')), false, 'fetch never ran');
    assert.equal(cli(['run', 'fetch', '--dry-run', '--experiment', 'ci'], { WEAKCORR_BACKEND: 'bogus' }).code, 0, 'fetch needs no backend');
  });

  it("--set 'a1.widths=[]' is an error naming the key; emptying every list of a protocol skips it", () => {
    const r = cli(['run', '--experiment', 'ci', '--set', 'a1.widths=[]']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /config 'a1\.widths': empty list, so stage 'train-a1' would have no tasks/);
    const skip = cli(['dag', '--json', '--experiment', 'ci', ...['datasets', 'activations', 'depths', 'widths', 'seeds'].flatMap((k) => ['--set', `a1.${k}=[]`])]);
    assert.equal(skip.code, 0, skip.stderr);
    const tasks = Object.fromEntries((JSON.parse(skip.stdout) as { stage: string; tasks: number }[]).map((s) => [s.stage, s.tasks]));
    assert.equal(tasks['train-a1'], 0);
    assert.ok(tasks['train-a2']! > 0);
  });
});
