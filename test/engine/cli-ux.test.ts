// The CLI as a user meets it (issue 23): the compiled build keys exactly as the sources do,
// flags and messages of the small fixes, the run display's log collapse and ETA.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDag } from '../../pipeline/engine/dag-format.ts';
import { PlainReporter } from '../../pipeline/engine/reporter.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function cli(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli: compiled build and user-facing fixes', function () {
  this.timeout(120_000);
  let cache: string;
  before(() => {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-cli-ux-'));
  });
  after(() => fs.rmSync(cache, { recursive: true, force: true }));

  it('the compiled CLI computes the same keys as the TypeScript sources (tsx)', () => {
    const env = { WEAKCORR_CACHE: path.join(cache, 'store') };
    const compiled = cli(['why', 'train-a1@mnist,relu,L1,w8,s0', '-e', 'ci', '--json'], env);
    assert.equal(compiled.code, 0, compiled.stderr);
    const current = JSON.parse(fs.readFileSync(path.join(REPO, '.build/current.json'), 'utf8')) as { dir: string };
    assert.ok(fs.existsSync(path.join(current.dir, 'main.js')), 'a compiled build exists after a command');
    const sources = cli(['why', 'train-a1@mnist,relu,L1,w8,s0', '-e', 'ci', '--json'], { ...env, WEAKCORR_NO_BUILD: '1' });
    assert.equal(sources.code, 0, sources.stderr);
    assert.equal(JSON.parse(compiled.stdout).key, JSON.parse(sources.stdout).key);
  });

  it('--jobs auto is accepted; a bad --jobs exits 2 with one line', () => {
    const env = { WEAKCORR_CACHE: path.join(cache, 'store') };
    assert.equal(cli(['run', 'fetch', '-e', 'ci', '-n', '--jobs', 'auto'], env).code, 0);
    const bad = cli(['run', '-e', 'ci', '-n', '--jobs', 'x'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--jobs.*'x'.*positive integer/);
  });

  it('a read command on a missing store names the path it looked at', () => {
    const missing = path.join(cache, 'typo');
    const r = cli(['status', '-e', 'ci'], { WEAKCORR_CACHE: missing });
    assert.equal(r.code, 0);
    assert.ok(r.stderr.includes(`WEAKCORR_CACHE=${missing} does not exist`), r.stderr);
    assert.equal(fs.existsSync(missing), false, 'a read command creates nothing');
  });

  it('a read command that fails on a missing store (check: nothing built) names the path too, after its error', () => {
    const missing = path.join(cache, 'nope');
    const r = cli(['check', '-e', 'ci'], { WEAKCORR_CACHE: missing });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0]!, /^weakcorr: check ci: .*not built/);
    assert.equal(lines.at(-1), `note: store WEAKCORR_CACHE=${missing} does not exist: nothing is built there`);
    assert.equal(fs.existsSync(missing), false, 'a read command creates nothing');
  });

  it('--set with the value the experiment already has makes no variant', () => {
    const env = { WEAKCORR_CACHE: path.join(cache, 'store') };
    const same = cli(['status', '-e', 'ci', '--json', '--set', 'a1.steps=20'], env);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(JSON.parse(same.stdout).experiment, 'ci');
    const other = cli(['status', '-e', 'ci', '--json', '--set', 'a1.steps=21'], env);
    assert.match(JSON.parse(other.stdout).experiment, /^ci\+[0-9a-f]{8}$/);
  });

  it('dag: text columns aligned; mermaid and dot draw a conditional need dashed', () => {
    const text = cli(['dag', '-e', 'ci']).stdout.trimEnd().split('\n');
    const col = (l: string): number => l.indexOf('task(s)');
    assert.ok(text.length >= 8 && text.every((l) => col(l) === col(text[0]!)), text.join('\n'));
    const graph = {
      stages: [{ name: 'a', outputs: {} }, { name: 'b', outputs: {}, needs: [{ stage: 'a', when: 'b.on' }] }, { name: 'c', outputs: {}, needs: [{ stage: 'a' }] }],
      tasks: [],
    } as never;
    assert.match(renderDag(graph, 'mermaid', 'x'), /a -\. "when b\.on" \.-> b/);
    assert.match(renderDag(graph, 'mermaid', 'x'), /a --> c/);
    assert.match(renderDag(graph, 'dot', 'x'), /"a" -> "b" \[style=dashed/);
    assert.match(renderDag(graph, 'dot', 'x'), /"a" -> "c";/);
  });

  it("run display: a task's log lines collapse to its last unless -v, all of them when it fails", () => {
    const show = (verbose: boolean, state: 'executed' | 'failed'): string[] => {
      const lines: string[] = [];
      const out = { write: (s: string) => lines.push(s.trimEnd()) } as unknown as NodeJS.WritableStream;
      const r = new PlainReporter('t', out);
      r.verbose = verbose;
      r.start(['fetch@mnist'], 1);
      r.taskStarted('fetch@mnist');
      for (const m of ['sources in order', 'file 1 ok', 'mnist: 4 file(s) verified']) r.taskLog('fetch@mnist', m);
      r.taskEnded('fetch@mnist', state, undefined, 10);
      return lines.filter((l) => l.startsWith('        fetch@mnist: '));
    };
    assert.deepEqual(show(false, 'executed'), ['        fetch@mnist: mnist: 4 file(s) verified']);
    assert.equal(show(true, 'executed').length, 3);
    assert.equal(show(false, 'failed').length, 3);
  });

  it('ETA: from measured stage times, a lower bound while a stage has none measured', () => {
    const lines: string[] = [];
    const out = { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream;
    const r = new PlainReporter('t', out, 0);
    const ids = ['fetch@a', 'fetch@b', ...Array.from({ length: 100 }, (_, i) => `train@${i}`)];
    r.start(ids, 1);
    r.taskStarted('fetch@a');
    r.taskEnded('fetch@a', 'executed', undefined, 4000);
    r.taskStarted('train@0');
    r.taskProgress('train@0', 1, 2);
    // fetch@b (4 s measured) + 100 train tasks counted at the fastest measured mean (4 s): a bound.
    assert.match(lines.at(-1)!, /ETA >=6m/);
    r.taskEnded('train@0', 'executed', undefined, 100);
    r.taskStarted('train@1');
    r.taskProgress('train@1', 0, 2);
    // Now measured: 4 s + 99 x 0.1 s = 13.9 s, no longer a bound.
    assert.match(lines.at(-1)!, /ETA 1[34]s/);
  });
});
