// A protocol added through the registry alone reaches the fit stage and the report. That a protocol
// missing a part does not compile is checked by tsc in ./toy/type-errors.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MIRROR = process.env.WEAKCORR_DATA_MIRROR || path.resolve(REPO, '../shared/datasets');

describe('protocol registry: a toy protocol', function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-toyprotocol-'));
  const env = {
    ...process.env, WEAKCORR_PROJECT: fileURLToPath(new URL('./toy/project.ts', import.meta.url)),
    WEAKCORR_CACHE: path.join(tmp, 'store'), WEAKCORR_DATA_DIR: path.join(tmp, 'data'), WEAKCORR_PUBLISH_ROOT: tmp,
    WEAKCORR_DATA_MIRROR: MIRROR, WEAKCORR_OFFLINE: '1', CI: '1',
  };
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 });

  before(function () {
    if (!fs.existsSync(path.join(MIRROR, 'mnist'))) {
      console.log(`      skipped: no dataset mirror at ${MIRROR} (set WEAKCORR_DATA_MIRROR)`);
      this.skip();
    }
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('its stage runs, fit fits its table and the report shows its figure and headline row', () => {
    const r = cli('run', '--experiment', 'toy', '--jobs', '2', '--json');
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const ids = (JSON.parse(r.stdout) as { tasks: { id: string }[] }).tasks.map((t) => t.id);
    assert.equal(ids.filter((id) => id.startsWith('train-toy@')).length, 12);

    const res = cli('results', '--experiment', 'toy', '--format', 'json');
    assert.equal(res.status, 0, res.stderr);
    const { rows } = JSON.parse(res.stdout) as { rows: { task: string; fit: string | null; metric: string; value: number }[] };
    const slope = rows.find((m) => m.task === 'fit' && m.fit === 'toy-err' && m.metric === 'slope');
    assert.ok(slope, `no toy-err slope in ${JSON.stringify(rows.filter((m) => m.task === 'fit'))}`);
    assert.ok(Math.abs(slope.value - -1) < 1e-9, `toy slope ${slope.value}, the closed form says -1`);

    const html = fs.readFileSync(path.join(tmp, 'reports/toy/index.html'), 'utf8');
    assert.ok(html.includes('<section class="figure" id="fig-toy-err">'), 'toy figure missing');
    assert.match(html, /Toy error vs width/);
    assert.match(html, /toy law: slope -1/);
  });
});
