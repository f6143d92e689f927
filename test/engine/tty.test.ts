// The live terminal display, through a real pseudo-terminal (util-linux `script`).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeToy, REPO, type Toy } from './toy.ts';

const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

describe('reporter: live display on a terminal', function () {
  this.timeout(120_000);
  let toy: Toy;
  before(function () {
    if (spawnSync('script', ['-qec', 'true', '/dev/null']).status !== 0) {
      console.log('    (skipped: util-linux script is not available)');
      this.skip();
    }
    toy = makeToy({ items: [1, 2, 3, 4, 5, 6], scale: 2 });
  });
  after(() => toy && fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('after Ctrl-C the last frame is true: "interrupted: N finished, M stopped", no bars of killed tasks', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env, WEAKCORR_PROJECT: path.join(toy.dir, 'project.ts'), WEAKCORR_CACHE: toy.cache, TOY_LOG: toy.log,
      TOY_MARK: toy.mark, TOY_SLOW_ITEM: 'all', TOY_SLEEP_MS: '60000', TERM: 'xterm',
    };
    delete env.CI;
    const cmd = `stty rows 40 cols 200; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(REPO, 'bin/weakcorr.js'))} run --jobs 2`;
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env, cwd: toy.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const deadline = Date.now() + 60_000;
    // Both workers busy with slow square tasks: the frame shows their two bars.
    while (!/[#.]{20} square@i1[^]*[#.]{20} square@i2|[#.]{20} square@i2[^]*[#.]{20} square@i1/.test(stripAnsi(out))) {
      if (Date.now() > deadline) throw new Error(`two tasks never ran: ${stripAnsi(out)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.stdin.write('\x03'); // Ctrl-C, through the terminal's line discipline
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 130);
    const lines = stripAnsi(out).split(/\r?\n|\r/).map((l) => l.trimEnd()).filter(Boolean);
    const headlines = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\[\d+\/\d+\]|^interrupted: \d+ finished/.test(l));
    const [last, at] = headlines.at(-1)!;
    assert.match(last, /^interrupted: 6 finished, 2 stopped, 5 not started \| elapsed/, stripAnsi(out));
    assert.ok(!lines.slice(at + 1).some((l) => /^\s+[#.]{20} /.test(l)), `no progress bar after the final headline:\n${lines.slice(at).join('\n')}`);
    assert.equal(lines.filter((l) => /^interrupted square@i\d/.test(l)).length, 2);
  });
});
