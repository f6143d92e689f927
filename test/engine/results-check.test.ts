// `results` (tidy metrics, the verdict table, csv/json/md) and `check` (verdicts against a baseline)
// on a real store: a smaller `ci` (one dataset, two widths and two seeds per protocol), built up to
// the fit stage, plus the baseline comparison as pure functions.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { compareVerdicts, parseBaseline, updatedBaseline, type Baseline } from '../../pipeline/engine/baseline.ts';
import { ConfigError } from '../../pipeline/engine/errors.ts';
import { formatTable, metricRows, tidyMetrics } from '../../pipeline/engine/results.ts';
import { VERDICT_ORDER } from '../../stages/stats/verdict.ts';
import { parseCsv, parseCsvWithPython } from '../report/parse-csv.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MIRROR = process.env.WEAKCORR_DATA_MIRROR ?? path.resolve(REPO, '../shared/datasets');

const cliSchema = JSON.parse(fs.readFileSync(path.join(REPO, 'schemas/cli.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema(cliSchema);
function conforms(def: string, value: unknown): void {
  const validate = ajv.getSchema(`weakcorr/cli#/$defs/${def}`)!;
  assert.ok(validate(value), `${def}: ${ajv.errorsText(validate.errors)}`);
}

type Cell = string | number | boolean | null;
interface ResultsJson {
  experiment: string;
  columns: string[];
  rows: Record<string, Cell>[];
  verdictColumns: string[];
  verdicts: Record<string, Cell>[];
  gate: string[];
  notCached: string[];
}

describe('results and check on a real store (a smaller ci, built to the fit)', function () {
  this.timeout(900_000);
  let tmp: string;
  let exp: string;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  let json: ResultsJson;

  before(function () {
    if (!fs.existsSync(path.join(MIRROR, 'mnist'))) this.skip();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-results-'));
    exp = path.join(tmp, 'small.json');
    fs.writeFileSync(exp, JSON.stringify({
      extends: 'ci',
      datasets: ['mnist'],
      a1: { datasets: ['mnist'], activations: ['erf'], widths: [8, 16], seeds: [0, 1] },
      a2: { widths: [16, 32], seeds: [0, 1], alphas: [0] },
      meanfield: { widths: [8, 16], seeds: [0, 1] },
      corollary: { widths: [16, 32], seeds: [0, 1] },
    }));
    env = { ...process.env, WEAKCORR_CACHE: path.join(tmp, 'store'), WEAKCORR_DATA_DIR: path.join(tmp, 'data'), WEAKCORR_PUBLISH_ROOT: tmp, WEAKCORR_DATA_MIRROR: MIRROR, WEAKCORR_OFFLINE: '1', CI: '1' };
    const run = cli('run', 'fit', '-e', exp, '--jobs', '2');
    assert.equal(run.code, 0, run.stderr);
    const r = cli('results', '-e', exp, '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    json = JSON.parse(r.stdout) as ResultsJson;
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  it('results: every grid axis its own column, numbers only in value, the status in its own column', () => {
    conforms('results', json);
    assert.deepEqual(json.notCached.filter((t) => !t.startsWith('report')), []);
    for (const c of ['stage', 'task', 'dataset', 'activation', 'depth', 'width', 'seed', 'alpha', 'fit', 'metric', 'value', 'status']) assert.ok(json.columns.includes(c), `column ${c} in ${json.columns.join(',')}`);
    assert.deepEqual(json.columns.slice(0, 2), ['stage', 'task']);
    for (const r of json.rows) {
      assert.deepEqual(Object.keys(r).sort(), [...json.columns].sort(), 'every row has every column');
      assert.ok(r.value === null || (typeof r.value === 'number' && Number.isFinite(r.value)), `${r.task} ${r.metric}: value ${String(r.value)}`);
    }
    // A train task: its axes as numbers and strings, its status beside each of its measurements.
    const train = json.rows.filter((r) => r.task === 'train-a1@mnist,erf,L1,w16,s1');
    assert.ok(train.length >= 3);
    for (const r of train) assert.deepEqual([r.dataset, r.activation, r.depth, r.width, r.seed, r.status], ['mnist', 'erf', 1, 16, 1, 'ok']);
    assert.ok(!train.some((r) => r.metric === 'status'), 'the status is a column, not a metric');
    // A fit group: the fit's id and the group's key as columns, the statistic alone as the metric.
    const fig4 = json.rows.filter((r) => r.stage === 'fit' && r.fit === 'fig4-mse');
    assert.deepEqual(fig4.map((r) => r.metric).sort(), ['boot95 hi', 'boot95 lo', 'ci95 hi', 'ci95 lo', 'points', 'r2', 'slope']);
    assert.ok(fig4.every((r) => r.alpha === 0 && r.width === null && r.seed === null));
    const c02 = json.rows.find((r) => r.stage === 'fit' && r.fit === 'fig1-c02' && r.metric === 'slope');
    assert.deepEqual([c02?.dataset, c02?.activation, c02?.depth], ['mnist', 'erf', 1]);
    assert.ok(!json.rows.some((r) => /[:=]/.test(String(r.metric))), 'no metric name folds in a group');
  });

  it('results --format csv parses back to the json table, cell for cell', () => {
    const r = cli('results', '-e', exp, '--format', 'csv');
    assert.equal(r.code, 0, r.stderr);
    const [head, ...rows] = parseCsv(r.stdout.trimEnd());
    assert.deepEqual(head, json.columns);
    assert.equal(rows.length, json.rows.length);
    rows.forEach((row, i) => assert.deepEqual(row, json.columns.map((c) => (json.rows[i]![c] === null ? '' : String(json.rows[i]![c])))));
    // Numbers come back exactly (shortest round-trip form).
    const vi = json.columns.indexOf('value');
    rows.forEach((row, i) => json.rows[i]!.value !== null && assert.equal(Number(row[vi]), json.rows[i]!.value));
  });

  it('results --table verdicts: one row per claim (verdict, measured slope, interval, bound, reason), in csv, md and json', () => {
    assert.ok(json.verdicts.length >= 8, `${json.verdicts.length} claims`);
    assert.deepEqual(json.gate, ['verdict', 'paper_verdict']);
    for (const c of ['id', 'claim', 'verdict', 'paper_verdict', 'slope_min', 'slope_max', 'ci_lo', 'ci_hi', 'bound', 'bound_slope', 'reason']) assert.ok(json.verdictColumns.includes(c), c);
    assert.equal(new Set(json.verdicts.map((v) => v.id)).size, json.verdicts.length, 'claim ids are unique');
    for (const v of json.verdicts) {
      assert.ok(VERDICT_ORDER.includes(v.verdict as never), `${v.id}: verdict ${String(v.verdict)}`);
      assert.ok(typeof v.reason === 'string' && v.reason.length > 0, `${v.id}: a reason`);
      if (v.slope_min !== null) assert.ok((v.slope_min as number) <= (v.slope_max as number));
    }
    const a2 = json.verdicts.find((v) => v.id === 'a2: Figure 4, α = 0');
    assert.ok(a2, json.verdicts.map((v) => v.id).join('\n'));
    const fit = json.rows.find((r) => r.fit === 'fig4-mse' && r.metric === 'slope')!;
    assert.equal(a2.slope_min, fit.value, 'a one-group claim shows its group\'s fitted slope');
    assert.equal(a2.ci_lo, json.rows.find((r) => r.fit === 'fig4-mse' && r.metric === 'ci95 lo')!.value);

    const csv = cli('results', '-e', exp, '--table', 'verdicts', '--format', 'csv');
    assert.equal(csv.code, 0, csv.stderr);
    const [head, ...rows] = parseCsv(csv.stdout.trimEnd());
    assert.deepEqual(head, json.verdictColumns);
    rows.forEach((row, i) => assert.deepEqual(row, json.verdictColumns.map((c) => (json.verdicts[i]![c] === null ? '' : String(json.verdicts[i]![c])))));

    const md = cli('results', '-e', exp, '--table', 'verdicts').stdout.trimEnd().split('\n');
    assert.equal(md[0], `| ${json.verdictColumns.join(' | ')} |`);
    assert.equal(md.length, json.verdicts.length + 2);
  });

  it('check: exit 0 on an equal baseline, 1 naming the claim on a changed, new or gone one, 2 without a baseline; --update rewrites it', () => {
    const file = path.join(tmp, 'baseline.json');
    const none = cli('check', '-e', exp, '--baseline', file);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no baseline at .*baseline\.json[\s\S]*--update/);

    const up = cli('check', '-e', exp, '--baseline', file, '--update');
    assert.equal(up.code, 0, up.stderr);
    const written = parseBaseline(fs.readFileSync(file, 'utf8'), file);
    assert.equal(Object.keys(written.claims).length, json.verdicts.length);
    const same = cli('check', '-e', exp, '--baseline', file, '--json');
    assert.equal(same.code, 0, same.stdout + same.stderr);
    conforms('check', JSON.parse(same.stdout));
    assert.equal(JSON.parse(same.stdout).ok, true);

    // One claim's verdict changed in the baseline: exit 1, naming the claim, old → new.
    const id = 'a2: Figure 4, α = 0';
    const now = written.claims[id]!.expect.verdict as string;
    const was = now === 'violated' ? 'holds' : 'violated';
    const edited: Baseline = structuredClone(written);
    edited.claims[id]!.expect.verdict = was;
    fs.writeFileSync(file, JSON.stringify(edited));
    const changed = cli('check', '-e', exp, '--baseline', file);
    assert.equal(changed.code, 1, changed.stdout + changed.stderr);
    assert.ok(changed.stdout.includes(`changed  ${id}`), changed.stdout);
    assert.ok(changed.stdout.includes(`verdict: ${was} → ${now}`), changed.stdout);
    assert.match(changed.stdout, /--update/);

    // Listed as an accepted alternative (a known-noisy claim): passes, and says so.
    edited.claims[id]!.accept = { verdict: [now] };
    edited.claims[id]!.note = 'flips between backends';
    fs.writeFileSync(file, JSON.stringify(edited));
    const accepted = cli('check', '-e', exp, '--baseline', file);
    assert.equal(accepted.code, 0, accepted.stdout);
    assert.ok(accepted.stdout.includes(`accepted alternatives (listed in the baseline): ${id}: verdict ${now}`), accepted.stdout);

    // A claim missing from the baseline (new) and one the experiment no longer reports (gone).
    const other = structuredClone(written);
    delete other.claims[id];
    other.claims['a9: a claim nobody makes'] = { expect: { verdict: 'holds', paper_verdict: null } };
    fs.writeFileSync(file, JSON.stringify(other));
    const moved = cli('check', '-e', exp, '--baseline', file);
    assert.equal(moved.code, 1);
    assert.ok(moved.stdout.includes(`new      ${id}`), moved.stdout);
    assert.ok(moved.stdout.includes('gone     a9: a claim nobody makes'), moved.stdout);

    // --update rewrites it to the current verdicts, keeping the accepted alternatives and notes.
    fs.writeFileSync(file, JSON.stringify({ ...edited, claims: { ...edited.claims, [id]: { expect: { verdict: was, paper_verdict: null }, accept: { verdict: ['inconclusive'] }, note: 'kept' } } }));
    assert.equal(cli('check', '-e', exp, '--baseline', file, '--update').code, 0);
    const rewritten = parseBaseline(fs.readFileSync(file, 'utf8'), file);
    assert.deepEqual(rewritten.claims[id], { expect: written.claims[id]!.expect, accept: { verdict: ['inconclusive'] }, note: 'kept' });
    assert.equal(cli('check', '-e', exp, '--baseline', file).code, 0);

    // An experiment whose fit is not built: nothing to compare, exit 2, naming the run to do.
    const unbuilt = cli('check', '-e', 'ci');
    assert.equal(unbuilt.code, 2);
    assert.match(unbuilt.stderr, /check ci: \d+ task\(s\) that judge the claims are not built \(fit\); run: weakcorr run --experiment ci/);

    // A baseline of another experiment is refused.
    fs.writeFileSync(file, JSON.stringify({ ...written, experiment: 'quick' }));
    const wrong = cli('check', '-e', exp, '--baseline', file);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /a baseline of experiment 'quick', not of 'small'/);
  });
});

describe('results and check: tables and the baseline comparison', () => {
  it('csv (d3-dsv) quotes commas, quotes and line breaks, and d3-dsv and Python\'s csv module read every field back', function () {
    const fields = ['a,b', 'say "hi"', 'two\nlines', ' padded ', 'cr\r', 'crlf\r\n', 'plain', 1.5e-7, null, true, 'ä €'];
    const header = fields.map((_, i) => `c${i + 1}`);
    const text = formatTable(header, [fields], 'csv');
    // RFC 4180 asks no quotes around edge spaces (they are part of the field); d3-dsv adds none.
    assert.equal(text.split('\n').slice(1).join('\n'), '"a,b","say ""hi""","two\nlines", padded ,"cr\r","crlf\r\n",plain,1.5e-7,,true,ä €');
    const want = [header, ['a,b', 'say "hi"', 'two\nlines', ' padded ', 'cr\r', 'crlf\r\n', 'plain', '1.5e-7', '', 'true', 'ä €']];
    assert.deepEqual(parseCsv(text), want);
    const py = parseCsvWithPython(text);
    if (!py) this.skip();
    assert.deepEqual(py, want);
  });

  it('md escapes pipes, keeps one line per row, rounds fractions to 4 significant digits and keeps integers whole', () => {
    const md = formatTable(['x', 'y', 'width', 'big'], [['a|b\nc', -0.123456789, 16384, 123456.7]], 'md').split('\n');
    assert.deepEqual(md, ['| x | y | width | big |', '|---|---|---|---|', '| a\\|b c | -0.1235 | 16384 | 123500 |']);
  });

  it('a flat metric map: numbers are rows, strings and booleans label every row of the task', () => {
    const rows = metricRows('train', 't@w8', { width: 8, seed: 0 }, { status: 'diverged', loss: null, steps: 3, ok: false });
    assert.deepEqual(rows.map((r) => [r.metric, r.value]), [['loss', null], ['steps', 3]]);
    assert.deepEqual(rows[0]!.labels, { status: 'diverged', ok: false });
    const t = tidyMetrics(rows);
    assert.deepEqual(t.columns, ['stage', 'task', 'width', 'seed', 'metric', 'value', 'status', 'ok']);
    assert.deepEqual(t.rows[1], { stage: 'train', task: 't@w8', width: 8, seed: 0, metric: 'steps', value: 3, status: 'diverged', ok: false });
  });

  it('a label named like an axis or a fixed column keeps its own column', () => {
    const t = tidyMetrics(metricRows('s', 't', { seed: 0 }, { seed: 'x', value: 'y', m: 1 }));
    assert.deepEqual(t.columns, ['stage', 'task', 'seed', 'metric', 'value', 'seed_label', 'value_label']);
    assert.deepEqual(t.rows[0], { stage: 's', task: 't', seed: 0, metric: 'm', value: 1, seed_label: 'x', value_label: 'y' });
  });

  const base: Baseline = {
    experiment: 'ci',
    gate: ['verdict', 'paper_verdict'],
    claims: {
      a: { expect: { verdict: 'holds', paper_verdict: null } },
      b: { expect: { verdict: 'inconclusive', paper_verdict: 'agrees with the paper' }, accept: { verdict: ['holds'] }, note: 'near the bound' },
    },
  };

  it('compareVerdicts: equal, changed per gated column, accepted alternatives, new and gone claims', () => {
    assert.deepEqual(compareVerdicts(base, [{ id: 'a', verdict: 'holds', paper_verdict: null }, { id: 'b', verdict: 'inconclusive', paper_verdict: 'agrees with the paper' }]), { ok: true, changes: [], matched: 2, accepted: [] });
    const r = compareVerdicts(base, [{ id: 'a', verdict: 'violated', paper_verdict: null }, { id: 'b', verdict: 'holds', paper_verdict: 'steeper than the paper' }, { id: 'c', verdict: 'holds' }]);
    assert.equal(r.ok, false);
    assert.deepEqual(r.changes, [
      { id: 'a', kind: 'changed', column: 'verdict', was: 'holds', now: 'violated' },
      { id: 'b', kind: 'changed', column: 'paper_verdict', was: 'agrees with the paper', now: 'steeper than the paper' },
      { id: 'c', kind: 'new', now: 'holds' },
    ]);
    assert.deepEqual(r.accepted, [{ id: 'b', column: 'verdict', now: 'holds' }]);
    assert.deepEqual(compareVerdicts(base, [{ id: 'a', verdict: 'holds', paper_verdict: null }]).changes, [{ id: 'b', kind: 'gone', was: 'inconclusive' }]);
  });

  it('updatedBaseline keeps accepted alternatives other than the new expected value, and notes', () => {
    const next = updatedBaseline('ci', ['verdict', 'paper_verdict'], [{ id: 'b', verdict: 'holds', paper_verdict: null }, { id: 'c', verdict: 'exploratory', paper_verdict: null }], base);
    assert.deepEqual(next.claims, { b: { expect: { verdict: 'holds', paper_verdict: null }, note: 'near the bound' }, c: { expect: { verdict: 'exploratory', paper_verdict: null } } });
  });

  it('parseBaseline names the file and the field of a bad baseline', () => {
    assert.throws(() => parseBaseline('{', 'x.json'), (e: unknown) => e instanceof ConfigError && /^x\.json: not JSON/.test(e.message));
    assert.throws(() => parseBaseline(JSON.stringify({ experiment: 'ci', gate: [], claims: {} }), 'x.json'), /x\.json: gate: expected a non-empty list/);
    assert.throws(() => parseBaseline(JSON.stringify({ experiment: 'ci', gate: ['verdict'], claims: { a: { expect: { verdict: ['holds'] } } } }), 'x.json'), /x\.json: claims\["a"\]\.expect: expected/);
    assert.throws(() => parseBaseline(JSON.stringify({ experiment: 'ci', gate: ['verdict'], claims: { a: { expect: {}, accept: { verdict: 'holds' } } } }), 'x.json'), /claims\["a"\]\.accept: expected an object: column -> list/);
  });

  it('the committed ci baseline is a valid baseline of ci, gating both judgments', () => {
    const file = path.join(REPO, 'pipeline/verdicts/ci.json');
    const b = parseBaseline(fs.readFileSync(file, 'utf8'), file);
    assert.equal(b.experiment, 'ci');
    assert.deepEqual(b.gate, ['verdict', 'paper_verdict']);
    assert.ok(Object.keys(b.claims).length >= 10);
    for (const [id, c] of Object.entries(b.claims)) assert.ok(VERDICT_ORDER.includes(c.expect.verdict as never), `${id}: ${String(c.expect.verdict)}`);
  });
});
