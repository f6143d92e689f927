// The SLURM client retry (slurmCmd over pipeline/engine/retry.ts) without a cluster: a fake
// `sbatch` first on PATH fails with a controller timeout N times, then answers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { slurmCmd } from '../../pipeline/engine/executors/slurm/slurm.ts';

describe('slurm: client commands retried while the controller times out', function () {
  this.timeout(30_000);
  let dir: string;
  const savedPath = process.env.PATH;
  const calls = (): number => Number(fs.readFileSync(path.join(dir, 'calls'), 'utf8'));
  /** A fake sbatch that fails its first `failures` calls (`stderr` on each), then prints 4242. */
  function fakeSbatch(failures: number, stderr = 'sbatch: error: Batch job submission failed: Socket timed out on send/recv operation'): void {
    fs.writeFileSync(path.join(dir, 'calls'), '0');
    fs.writeFileSync(path.join(dir, 'sbatch'), `#!/bin/sh
n=$(($(cat "${dir}/calls") + 1)); echo $n > "${dir}/calls"
if [ $n -le ${failures} ]; then echo '${stderr}' >&2; exit 1; fi
echo 4242
`, { mode: 0o755 });
  }
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slurm-retry-'));
    process.env.PATH = `${dir}${path.delimiter}${savedPath}`;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails twice, then succeeds: three calls, the answer of the third', async () => {
    fakeSbatch(2);
    assert.equal((await slurmCmd(($) => $`sbatch job.sh`)).stdout.trim(), '4242');
    assert.equal(calls(), 3);
  });

  it('always timing out: four calls, then the last error with its stderr', async () => {
    fakeSbatch(99);
    await assert.rejects(slurmCmd(($) => $`sbatch job.sh`), (e: Error & { stderr?: string }) => /Socket timed out/.test(e.stderr ?? ''));
    assert.equal(calls(), 4);
  });

  it('a rejected request is not retried', async () => {
    fakeSbatch(99, 'sbatch: error: Invalid account or account/partition combination specified');
    await assert.rejects(slurmCmd(($) => $`sbatch job.sh`), (e: Error & { stderr?: string }) => /Invalid account/.test(e.stderr ?? ''));
    assert.equal(calls(), 1);
  });

  it('a lost reply: recover finds the job before the retry, and sbatch does not run again', async () => {
    fakeSbatch(1);
    let recovered = 0;
    const r = await slurmCmd(($) => $`sbatch job.sh`, { recover: async () => `${++recovered}77` });
    assert.deepEqual([r.stdout, calls(), recovered], ['177', 1, 1]);
    // recover says "not submitted" (undefined): the command runs again.
    fakeSbatch(1);
    assert.equal((await slurmCmd(($) => $`sbatch job.sh`, { recover: async () => undefined })).stdout.trim(), '4242');
    assert.equal(calls(), 2);
  });

  it('a recovery that cannot tell is retried like the command (never taken as "not submitted"); a final one rejects', async () => {
    const timeout = Object.assign(new Error('squeue failed'), { stderr: 'squeue: error: Socket timed out on send/recv operation' });
    fakeSbatch(1);
    let asked = 0;
    // The second recovery finds nothing: only then does sbatch run again.
    const r = await slurmCmd(($) => $`sbatch job.sh`, { recover: async () => { if (++asked === 1) throw timeout; return undefined; } });
    assert.deepEqual([r.stdout.trim(), calls(), asked], ['4242', 2, 2]);
    fakeSbatch(1);
    await assert.rejects(slurmCmd(($) => $`sbatch job.sh`, { recover: async () => { throw new Error('squeue: invalid user'); } }), /invalid user/);
    assert.equal(calls(), 1, 'sbatch did not run again');
  });
});
