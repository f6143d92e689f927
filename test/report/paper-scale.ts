// FAKE data at the paper's scale, for the report's size and speed checks (test and bench): the A.2
// protocol's own figures, headline and claims over synthetic fit rows shaped like paper-a2 (14
// widths x seeds x 5 alphas; 7,000 rows at 100 seeds). No training: rows are drawn from the
// paper's slopes with log-normal noise, and the fit stage's grouping fits them.

import { mulberry32 } from '../../stages/model/prng.ts';
import type { Row } from '../../stages/contracts/fits.ts';
import { fitSpecGroups } from '../../stages/fit/groups.ts';
import type { ReportInput } from '../../stages/page/html.ts';
import { a2Protocol, PAPER_FIG4_SLOPES } from '../../stages/protocols/a2/index.ts';
import type { ProtocolView } from '../../stages/protocols/protocol.ts';

export const PAPER_A2_WIDTHS = [2048, 2435, 2896, 3444, 4096, 4871, 5793, 6889, 8192, 9741, 11585, 13777, 16384, 19484];
export const PAPER_A2_ALPHAS = [0, -0.25, -0.5, -0.75, -1];

function normal(rng: () => number): number {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** A.2 fit rows for `seeds` seeds (5 x 14 x seeds rows); about 1% diverged at alpha = 0. */
export function paperA2Rows(seeds: number): Row[] {
  const rng = mulberry32(`paper-a2-${seeds}`);
  const rows: Row[] = [];
  for (const alpha of PAPER_A2_ALPHAS)
    for (let seed = 0; seed < seeds; seed++)
      for (const width of PAPER_A2_WIDTHS) {
        const diverged = alpha === 0 && rng() < 0.01;
        const mse = 0.02 * (width / 2048) ** PAPER_FIG4_SLOPES[String(alpha)]! * Math.exp(0.2 * normal(rng));
        rows.push({
          alpha, width, seed, status: diverged ? 'diverged' : 'ok', lr: 0.1 * width ** alpha,
          mseTest: diverged ? null : mse, testLoss: diverged ? null : 0.3 + 0.01 * normal(rng), testAcc: diverged ? null : 0.9 + 0.01 * normal(rng), mseTestFloor: 1e-12,
        });
      }
  return rows;
}

/** A complete report input: the A.2 protocol's claims, headline and figures over paperA2Rows(seeds). */
export function paperA2ReportInput(seeds: number): ReportInput {
  const rows = paperA2Rows(seeds);
  const groups = a2Protocol.fits.flatMap((spec) => fitSpecGroups(spec, rows, { resamples: 200, seed: 1 }));
  const view: ProtocolView<string> = { rows: () => rows, groups: (metric) => groups.filter((g) => g.metric === metric) };
  return {
    title: `weakcorr — SAMPLE paper-a2-shaped report, ${rows.length} FAKE runs`,
    intro: ['FAKE DATA for the report size and speed checks; none of these numbers is a measurement.'],
    claims: a2Protocol.claims?.(view) ?? [],
    headline: a2Protocol.headline(view),
    figures: a2Protocol.figures(view),
    provenance: {
      experiment: `paper-a2-sample-${seeds}`,
      config: { a2: { widths: PAPER_A2_WIDTHS, seeds, alphas: PAPER_A2_ALPHAS } },
      git: { commit: '0'.repeat(40), dirty: false },
      runtime: {},
      packages: {},
      tasks: { diverged: rows.filter((r) => r.status === 'diverged').length },
      stages: [],
    },
  };
}
