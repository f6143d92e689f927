// End to end on the GPU code path: the `ci` experiment with WEAKCORR_BACKEND=webgpu (in CI a
// software adapter, Mesa lavapipe), from an empty cache to the report. Checks that every model
// task ran on webgpu, that the adapter is in every key and record, and that the report names it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeAdapterSync } from '../../stages/model/backends/webgpu.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MIRROR = process.env.WEAKCORR_DATA_MIRROR || path.resolve(REPO, '../shared/datasets');

describe('e2e: the ci experiment on webgpu', function () {
  this.timeout(900_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-e2e-webgpu-'));
  const env = { ...process.env, WEAKCORR_CACHE: path.join(tmp, 'store'), WEAKCORR_DATA_DIR: path.join(tmp, 'data'), WEAKCORR_PUBLISH_ROOT: tmp, WEAKCORR_DATA_MIRROR: MIRROR, WEAKCORR_OFFLINE: '1', CI: '1' };
  const cli = (backend: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), ...args], { env: { ...env, WEAKCORR_BACKEND: backend }, encoding: 'utf8', maxBuffer: 64 << 20 });

  before(async function () {
    const a = probeAdapterSync();
    const why = !fs.existsSync(path.join(MIRROR, 'mnist')) ? `no dataset mirror at ${MIRROR}` : a.ok ? undefined : a.reason;
    if (why && process.env.WEAKCORR_REQUIRE_WEBGPU === '1' && a.ok === false) throw new Error(`WEAKCORR_REQUIRE_WEBGPU=1 but ${why}`);
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('builds every stage on webgpu; keys and records carry the adapter; the report names it', () => {
    const r = cli('webgpu', 'run', '--experiment', 'ci', '--jobs', '2', '--json');
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const s = JSON.parse(r.stdout) as { executed: number; failed: number; tasks: { id: string; state: string }[] };
    assert.equal(s.failed, 0);
    assert.equal(s.executed, s.tasks.length);
    assert.match(r.stderr, /backend webgpu on WebGPU \S+ \S+ \(/);
    const tasks = path.join(tmp, 'store/tasks');
    let model = 0;
    for (const f of fs.readdirSync(tasks).filter((f) => f.endsWith('.json'))) {
      const rec = JSON.parse(fs.readFileSync(path.join(tasks, f), 'utf8')) as { stage: string; runtime: { backend?: string; adapter?: { vendor: string; architecture: string } } };
      if (!/^(train-a1|train-a2|correlate)$/.test(rec.stage)) continue;
      model++;
      assert.equal(rec.runtime.backend, 'webgpu');
      assert.ok(rec.runtime.adapter?.vendor && rec.runtime.adapter.architecture, JSON.stringify(rec.runtime));
    }
    assert.ok(model >= 100, `${model} model task records`);
    const html = fs.readFileSync(path.join(tmp, 'reports/ci/index.html'), 'utf8');
    assert.match(html, /webgpu on WebGPU \w+ \w+/);
  });

  it('a CPU backend shares no model cache entry with the webgpu run (the adapter is in the key)', () => {
    const r = cli('wasm', 'status', '--experiment', 'ci', '--json', 'train-a2');
    assert.equal(r.status, 0, r.stderr);
    const st = JSON.parse(r.stdout) as { tasks: { id: string; state: string; reasons: string[] }[] };
    const train = st.tasks.filter((t) => t.id.startsWith('train-a2@'));
    assert.ok(train.length > 0);
    for (const t of train) {
      assert.equal(t.state, 'stale', t.id);
      assert.ok(t.reasons.includes('runtime backend "webgpu" -> "wasm"'), t.reasons.join('; '));
      assert.ok(t.reasons.some((x) => /^runtime adapter \{.*"vendor"/.test(x)), t.reasons.join("; "));
    }
  });
});
