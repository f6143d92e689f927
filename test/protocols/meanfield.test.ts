// The negative control's protocol: its tables, fits and verdict rule on synthetic power laws
// (the stages themselves run in the e2e test through ci.json).
import assert from 'node:assert/strict';
import type { Row } from '../../stages/contracts/fits.ts';
import { fitSpecGroups } from '../../stages/fit/groups.ts';
import { controlVerdict, doseVerdict, driftVerdict, meanFieldProtocol, mfCorrRows, NO_DECAY_SLOPE } from '../../stages/protocols/meanfield/index.ts';
import type { CorrelationResult } from '../../stages/contracts/correlation-result.ts';
import { mfLearningRate, mfSpec } from '../../stages/protocols/meanfield/job.ts';
import { modelDesc } from '../../stages/model/spec.ts';
import { protocols } from '../../stages/wiring/registry.ts';

const WIDTHS = [16, 32, 64, 128];
/** c02 = A n^slope with a seed effect, per parameterization. */
function rows(slopes: Record<string, number>): Row[] {
  return Object.entries(slopes).flatMap(([parameterization, slope]) => [0, 1, 2].flatMap((seed) => WIDTHS.map((width) => ({
    parameterization, dataset: 'mnist', activation: 'erf', depth: 2, width, seed, status: 'ok',
    c01: 1, c02: 0.3 * width ** slope * (1 + 0.05 * seed) * (1 + 0.02 * Math.sin(width + seed)), c03: 0.1 * width ** (slope - 0.5), eq24Test: 0.01 * width ** slope,
  }))));
}

function verdictFor(slopes: Record<string, number>) {
  const spec = meanFieldProtocol.fits.find((f) => f.metric === 'mf-c02')!;
  const groups = fitSpecGroups(spec, rows(slopes), { resamples: 200, seed: 1 });
  // The claim reads C^{0,3}: the same synthetic law fitted as the c03 metric.
  const v = { rows: () => [], groups: (m: string) => (m === 'mf-c03' ? groups.map((g) => ({ ...g, id: g.id.replace('mf-c02', 'mf-c03') })) : []) };
  return { groups, claims: meanFieldProtocol.claims!(v) };
}

describe('protocol: mean-field negative control', () => {
  it('is in the registry with its own stages, and eta = lr0 n only in the mean-field parameterization', () => {
    assert.ok(protocols.includes(meanFieldProtocol));
    assert.deepEqual(meanFieldProtocol.stages.map((s) => s.name), ['train-meanfield', 'correlate-meanfield']);
    assert.equal(mfLearningRate('meanfield', 0.5, 128), 64);
    assert.equal(mfLearningRate('ntk', 0.5, 128), 0.5);
  });

  it('fits NTK and mean-field side by side, each against its own expectation', () => {
    const { groups } = verdictFor({ ntk: -1, meanfield: 0 });
    const by = Object.fromEntries(groups.map((g) => [g.key.parameterization as string, g]));
    assert.ok(Math.abs(by.ntk!.fit.slope! - -1) < 0.05 && Math.abs(by.meanfield!.fit.slope!) < 0.05);
    assert.equal(by.meanfield!.expectations[0]!.slope, 0);
    assert.equal(by.ntk!.expectations[0]!.slope, -0.5);
  });

  it('verdict: consistent when mean-field does not decay, steeper when it decays like the NTK case', () => {
    const flat = verdictFor({ ntk: -1, meanfield: 0 }).claims[0]!;
    assert.equal(flat.verdict, 'holds');
    assert.match(flat.why, /1 of 1 NTK group\(s\) of the same nets do/);
    assert.match(flat.why, /NTK C\^\{0,3\} against its bound −0\.75: /);
    assert.match(flat.claim, /C\^\{0,3\}/);
    assert.deepEqual(flat.widths.here, [16, 128]);
    const decays = verdictFor({ ntk: -1, meanfield: -0.65 }).claims[0]!;
    assert.equal(decays.verdict, 'contradicts the prediction');
    assert.ok(decays.measured[0]!.hi! < NO_DECAY_SLOPE);
    const noCi = controlVerdict([{ ...verdictFor({ meanfield: 0 }).groups[0]!, fit: { ...verdictFor({ meanfield: 0 }).groups[0]!.fit, ci: null } }], []);
    assert.equal(noCi.verdict, 'inconclusive');
  });

  it('kernel drift row: holds when mean-field drift stays O(1) and NTK drift decays; contradicts when mean-field decays; inconclusive when NTK does not decay', () => {
    const driftGroups = (slopes: Record<string, number>) => {
      const spec = meanFieldProtocol.fits.find((f) => f.metric === 'mf-drift')!;
      const rs = Object.entries(slopes).flatMap(([parameterization, slope]) => [0, 1, 2].flatMap((seed) => WIDTHS.map((width) => ({
        parameterization, dataset: 'mnist', activation: 'erf', depth: 2, width, seed, status: 'ok',
        kernelDrift: 0.5 * width ** slope * (1 + 0.05 * seed) * (1 + 0.02 * Math.sin(width + seed)),
      }))));
      return fitSpecGroups(spec, rs, { resamples: 200, seed: 1 });
    };
    const split = (g: ReturnType<typeof driftGroups>) => [g.filter((x) => x.key.parameterization === 'meanfield'), g.filter((x) => x.key.parameterization === 'ntk')] as const;
    const ok = driftVerdict(...split(driftGroups({ ntk: -0.5, meanfield: 0 })));
    assert.equal(ok.verdict, 'holds', ok.why);
    assert.match(ok.why, /every NTK group.s drift decays/);
    assert.equal(driftVerdict(...split(driftGroups({ ntk: -0.5, meanfield: -0.6 }))).verdict, 'contradicts the prediction');
    const flat = driftVerdict(...split(driftGroups({ ntk: 0.1, meanfield: 0 })));
    assert.equal(flat.verdict, 'inconclusive', flat.why);
    assert.match(flat.why, /NTK drift's decay is not shown/);
    // The claims: a second row from the drift groups, naming both parameterizations' groups.
    const groups = driftGroups({ ntk: -0.5, meanfield: 0 });
    const c03 = verdictFor({ ntk: -1, meanfield: 0 }).groups.map((g) => ({ ...g, id: g.id.replace('mf-c02', 'mf-c03') }));
    const claims = meanFieldProtocol.claims!({ rows: () => [], groups: (m: string) => (m === 'mf-drift' ? groups : m === 'mf-c03' ? c03 : []) });
    assert.equal(claims.length, 2);
    assert.match(claims[1]!.claim, /empirical NTK moves O\(1\)/);
    assert.equal(claims[1]!.verdict, 'holds');
    assert.equal(claims[1]!.groups.length, 2);
  });

  it('dose-response over gamma: gamma = 1/4 is mean-field with outputExponent 1/4 and eta = lr0 sqrt(n), labelled gamma0.25 in the tables; the row holds when both rates rise together', () => {
    assert.equal(mfLearningRate('gamma0.25', 0.5, 64), 4);
    const pt = { dataset: 'mnist', activation: 'erf' as const, depth: 2, width: 64, seed: 0 };
    const spec = mfSpec(784, { ...pt, parameterization: 'gamma0.25' }, { sigmaW: 1, sigmaB: 0.05 });
    assert.equal(spec.parameterization, 'meanfield');
    assert.equal(spec.outputExponent, 0.25);
    const corr = (parameterization: 'ntk' | 'gamma0.25' | 'meanfield') => ({
      model: modelDesc(mfSpec(784, { ...pt, parameterization }, { sigmaW: 1, sigmaB: 0.05 })), point: pt,
      exact: { c01: { rms: 1 }, c02: { rms: 1 }, c03: { rms: 1 } },
    }) as unknown as CorrelationResult;
    assert.deepEqual(mfCorrRows([corr('ntk'), corr('gamma0.25'), corr('meanfield')]).map((r) => r.parameterization), ['ntk', 'gamma0.25', 'meanfield']);

    const groupsFor = (metric: string, value: string, slopes: Record<string, number>) => {
      const spec = meanFieldProtocol.fits.find((f) => f.metric === metric)!;
      const rs = Object.entries(slopes).flatMap(([parameterization, slope]) => [0, 1, 2].flatMap((seed) => WIDTHS.map((width) => ({
        parameterization, dataset: 'mnist', activation: 'erf', depth: 2, width, seed, status: 'ok',
        [value]: 0.5 * width ** slope * (1 + 0.05 * seed) * (1 + 0.02 * Math.sin(width + seed)),
      }))));
      return fitSpecGroups(spec, rs, { resamples: 200, seed: 1 });
    };
    const predicted = { ntk: -1, 'gamma0.25': -0.5, meanfield: 0 };
    const c03 = groupsFor('mf-c03', 'c03', predicted);
    // gamma = 1/4: C^{0,3} has a predicted slope (the identity), the linearization rate none.
    assert.deepEqual(c03.find((g) => g.key.parameterization === 'gamma0.25')!.expectations.map((e) => e.slope), [-0.5]);
    assert.deepEqual(groupsFor('mf-linrel', 'linRelTest', predicted).find((g) => g.key.parameterization === 'gamma0.25')!.expectations, []);
    const together = doseVerdict(c03, groupsFor('mf-linrel', 'linRelTest', predicted));
    assert.equal(together.verdict, 'holds', together.why);
    assert.match(together.why, /γ = 0.25: −0.50 .* \(predicted −0.50\)/);
    assert.match(together.why, /rise per step of γ: C\^\{0,3\} 0.50, 0.50, linearization 0.50, 0.50/);
    const apart = doseVerdict(c03, groupsFor('mf-linrel', 'linRelTest', { ntk: 0, 'gamma0.25': -0.5, meanfield: -1 }));
    assert.equal(apart.verdict, 'contradicts the prediction', apart.why);
    const flat = doseVerdict(c03, groupsFor('mf-linrel', 'linRelTest', { ntk: -0.5, 'gamma0.25': -0.5, meanfield: -0.5 }));
    assert.equal(flat.verdict, 'inconclusive', flat.why);
    assert.equal(doseVerdict(c03.slice(0, 2), groupsFor('mf-linrel', 'linRelTest', predicted)).verdict, 'inconclusive');
    // The claims get a dose row only where a gamma = 1/4 arm was run.
    const lin = groupsFor('mf-linrel', 'linRelTest', predicted);
    const claims = meanFieldProtocol.claims!({ rows: () => [], groups: (m: string) => (m === 'mf-c03' ? c03 : m === 'mf-linrel' ? lin : []) });
    assert.equal(claims.length, 2);
    assert.match(claims[1]!.claim, /Dose-response over the output exponent γ/);
    assert.equal(claims[1]!.verdict, 'holds');
    assert.equal(claims[0]!.verdict, 'holds', claims[0]!.why);
  });
});
