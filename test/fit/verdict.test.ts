// Issue 12: the verdict rule, on constructed cases.
import assert from 'node:assert/strict';
import { BOUND_TOLERANCE, combineVerdicts, MAX_CI_WIDTH, MIN_R2, verdict, VERDICT_RULE, type VerdictInput } from '../../stages/stats/verdict.ts';

const base: VerdictInput = { slope: -1, lo: -1.1, hi: -0.9, r2: 0.95, widths: [16, 256], paperWidths: [8, 1024], bound: -0.5, paper: null };

describe('fit/verdict: the rule', () => {
  it('not comparable when the widths do not overlap the paper\'s', () => {
    const r = verdict({ ...base, widths: [64, 1024], paperWidths: [2048, 19484] });
    assert.equal(r.verdict, 'not comparable');
    assert.match(r.why, /64–1024.*2048–19484/);
  });
  it('inconclusive: no interval, too wide, low R²', () => {
    assert.equal(verdict({ ...base, lo: null, hi: null }).verdict, 'inconclusive');
    assert.equal(verdict({ ...base, lo: -1.6, hi: -1.6 + MAX_CI_WIDTH + 0.01 }).verdict, 'inconclusive');
    assert.equal(verdict({ ...base, r2: MIN_R2 - 0.01 }).verdict, 'inconclusive');
  });
  it('steeper/flatter than the paper when the interval excludes its slope', () => {
    assert.equal(verdict({ ...base, paper: -0.5 }).verdict, 'steeper than the paper');
    assert.equal(verdict({ ...base, paper: -1.5 }).verdict, 'flatter than the paper');
    // Figure 4, alpha 0 as issue 12 found it: paper -1.14, measured about -0.2: flagged.
    const fig4 = verdict({ ...base, slope: -0.2, lo: -0.35, hi: -0.05, paper: -1.14, bound: 1, paperWidths: null });
    assert.equal(fig4.verdict, 'flatter than the paper');
    assert.match(fig4.why, /within the bound/);
  });
  it('consistent with the bound when the upper end is at most bound + tolerance; above when the lower end exceeds it', () => {
    assert.equal(verdict(base).verdict, 'consistent with the bound');
    assert.equal(verdict({ ...base, lo: -0.8, hi: -0.5 + BOUND_TOLERANCE }).verdict, 'consistent with the bound');
    assert.equal(verdict({ ...base, slope: -0.2, lo: -0.3, hi: -0.1 }).verdict, 'above the bound');
    assert.equal(verdict({ ...base, slope: -0.5, lo: -0.7, hi: -0.3 }).verdict, 'inconclusive');
  });
  it('a multi-group claim takes the least favourable verdict and counts each', () => {
    const c = combineVerdicts([verdict(base), verdict(base), verdict({ ...base, r2: 0.1 })]);
    assert.equal(c.verdict, 'inconclusive');
    assert.match(c.why, /3 groups: 1 inconclusive, 2 consistent with the bound/);
  });
  it('the printed rule names every verdict and threshold', () => {
    for (const w of ['not comparable', 'inconclusive', 'steeper/flatter than the paper', 'consistent with the bound', 'above the bound', String(MAX_CI_WIDTH), String(MIN_R2), String(BOUND_TOLERANCE)])
      assert.ok(VERDICT_RULE.includes(w), w);
  });
});
