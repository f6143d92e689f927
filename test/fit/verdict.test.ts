// The verdict rules (stats/verdict.ts) on synthetic groups: the one-sided bound test, Holm's
// correction across a claim's groups, pre-asymptotic groups, out-of-scope bounds and the paper
// comparison, each on a case the old single rule (interval width > 1 or R² < 0.5 blocked a verdict,
// the least favourable group decided) got wrong.
import assert from 'node:assert/strict';
import { studentTQuantile } from '../../stages/stats/t-quantile.ts';
import { holm, judgeBound, judgePaper, oneSided, preAsymptotic, twoSidedP, VERDICT_RULE, type GroupSlope } from '../../stages/stats/verdict.ts';

/** A group with k seeds whose per-seed slopes have this mean and sd; straight (no curvature) unless told. */
function group(id: string, mean: number, sd: number, k = 3, extra: Partial<GroupSlope> = {}): GroupSlope {
  const half = (studentTQuantile(0.975, k - 1) * sd) / Math.sqrt(k);
  return { id, mean, sd, k, lo: mean - half, hi: mean + half, localFirst: mean, localLast: mean, widths: [16, 256], paper: null, ...extra };
}

describe('stats/verdict: two judgments per claim', () => {
  it('one-sided: an interval wider than 1 entirely below the bound holds (C^{0,3} at [−2.70, −1.61] against −3/4)', () => {
    const g = group('c03', -2.155, 0.2194, 3);
    assert.ok(Math.abs(g.lo! - -2.70) < 0.01 && Math.abs(g.hi! - -1.61) < 0.01, `${g.lo} ${g.hi}`);
    const j = judgeBound([g], -0.75);
    assert.equal(j.verdict, 'holds');
    assert.match(j.why, /the upper 95% limit −\d\.\d\d is ≤ −0\.75/);
    // The upper one-sided limit is mean + t_{0.95, k-1} sd / sqrt(k), tighter than the two-sided hi.
    const t = oneSided(g, -0.75)!;
    assert.ok(Math.abs(t.upper - (g.mean! + (studentTQuantile(0.95, 2) * g.sd!) / Math.sqrt(3))) < 1e-12);
    assert.ok(t.upper < g.hi!);
  });

  it('one-sided: "violated" needs the lower limit above the bound; straddling is inconclusive', () => {
    assert.equal(judgeBound([group('a', -0.2, 0.05, 5)], -0.5).verdict, 'violated');
    assert.equal(judgeBound([group('a', -0.5, 0.3, 3)], -0.5).verdict, 'inconclusive');
  });

  it('multiplicity: ten groups each marginally above the bound (p ≈ 0.03) are not "violated" after Holm', () => {
    // p = 0.03 one-sided at k = 10 seeds: t = t_{0.97, 9}.
    const k = 10;
    const sd = 0.3;
    const shift = (studentTQuantile(0.97, k - 1) * sd) / Math.sqrt(k);
    const groups = Array.from({ length: 10 }, (_, i) => group(`g${i}`, -0.5 + shift, sd, k));
    for (const g of groups) assert.ok(Math.abs(oneSided(g, -0.5)!.pAbove - 0.03) < 1e-6);
    assert.equal(judgeBound(groups, -0.5).verdict, 'inconclusive');
    // One clearly violating group survives the correction.
    const strong = group('strong', 0.2, 0.05, k);
    const j = judgeBound([...groups, strong], -0.5);
    assert.equal(j.verdict, 'violated');
    assert.match(j.why, /1 of 11 above −0\.50 after Holm \(strong/);
  });

  it('holm: step-down rejections at 5%', () => {
    assert.deepEqual(holm([0.01, 0.04, 0.03, 0.005]), [true, false, false, true]);
    assert.deepEqual(holm([0.001, 0.012, 0.02]), [true, true, true]);
    assert.deepEqual(holm([0.2]), [false]);
  });

  it('pre-asymptotic: local slopes moving more than the interval width leave a group unjudged', () => {
    // Eq. 24 on mnist/erf as measured: interval 0.04 wide, local slopes −0.57 … −1.08.
    const bent = group('eq24', -0.8, 0.008, 3, { localFirst: -0.57, localLast: -1.08 });
    assert.ok(bent.hi! - bent.lo! < 0.05);
    assert.ok(preAsymptotic(bent));
    assert.equal(judgeBound([bent], -0.5).verdict, 'pre-asymptotic');
    const straight = group('ok', -0.8, 0.05, 3);
    const j = judgeBound([bent, straight], -0.5);
    assert.equal(j.verdict, 'holds');
    assert.match(j.why, /1 pre-asymptotic \(eq24: local slopes −0\.57 → −1\.08\)/);
  });

  it('out of scope: a bound outside the theorem\'s premises is not judged, and the premise is named', () => {
    const g = group('fig4-a0', 0.9, 0.05, 5);
    const j = judgeBound([g], 1, () => ({ inScope: false, why: 'α = 0: r = η/η_the = n^1.00 grows faster than m(n)' }));
    assert.equal(j.verdict, 'out of scope');
    assert.match(j.why, /α = 0/);
  });

  it('paper: two-sided with Holm, only where the widths overlap the paper\'s', () => {
    const here = group('a-1', -2.0, 0.1, 5, { paper: -2.72, widths: [64, 1024] });
    assert.equal(judgePaper([here], [2048, 19484])!.verdict, 'not comparable');
    const overlap = { ...here, widths: [2048, 4096] as [number, number] };
    assert.equal(judgePaper([overlap], [2048, 19484])!.verdict, 'flatter than the paper');
    assert.equal(judgePaper([{ ...overlap, mean: -2.7 }], [2048, 19484])!.verdict, 'agrees with the paper');
    assert.equal(judgePaper([{ ...overlap, paper: null }], [2048, 19484]), null);
    assert.ok(Math.abs(twoSidedP(group('x', 0, 1, 4), 0)! - 1) < 1e-12);
  });

  it('the printed rule names the tests, the correction and every verdict it can give', () => {
    for (const w of ['one-sided', 'Holm', 'intersection-union', 'pre-asymptotic', 'out of scope', 'holds', 'violated', 'inconclusive', 'not comparable', 'agrees with the paper', 'steeper/flatter than the paper', '10×'])
      assert.ok(VERDICT_RULE.includes(w), w);
  });
});
