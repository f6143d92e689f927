// The report stage over a set of protocols: one self-contained HTML page per experiment, published
// to reports/<experiment>/index.html. Each protocol contributes its headline rows and figures.
import { defineStage } from '../../pipeline/engine/define-stage.ts';
import { bytesOutput, need, type ParamDecl, type Stage } from '../../pipeline/engine/define-stage.ts';
import type { FitStage } from '../fit/stage.ts';
import { viewOf } from '../fit/view.ts';
import { fetchStage } from '../fetch/index.ts';
import type { ReportConfig } from './config.ts';
import type { Protocol } from '../protocols/protocol.ts';
import { renderReportHtml } from '../page/html.ts';
import { gitState, packageVersions, stageCounts } from './provenance.ts';

/**
 * `module`: the caller's module URL, whose import graph (the protocols, this file) is the stage's code.
 * `sections`: the experiment config's sections (the wiring composes them): the report shows, and keys
 * on, all of them.
 * `verdictRule`: the sentence stating how claims get their verdict words (shown under the verdicts).
 */
export function reportStageFor<S extends ParamDecl & { report: typeof ReportConfig }>(
  protocols: Protocol[], module: string, opts: { sections: S; fit: FitStage; verdictRule?: string },
): Stage<'report', Record<never, never>, 'html'> {
  return defineStage({
    name: 'report',
    module,
    description: 'One self-contained HTML report with vega-lite figures and provenance',
    // The report shows the whole experiment config: every section enters its key.
    params: opts.sections,
    perExperiment: true,
    wantsLineage: true,
    needs: [
      need(opts.fit, { outputs: ['fits'] }),
      need(fetchStage, { on: {}, outputs: ['meta'] }),
    ],
    bytes: { html: bytesOutput({ publish: 'reports/{experiment}/index.html' }) },
    async run(ctx) {
      const [fits] = await ctx.readAll(opts.fit, 'fits');
      if (!fits) throw new Error(`${ctx.id}: no fit task reached the report`);
      const metas = await ctx.readAll(fetchStage, 'meta');
      const config = ctx.paramsJson;
      const lineage = ctx.lineage;
      const git = await gitState();
      ctx.progress(1, 3, 'figures');
      const views = protocols.map((p) => viewOf(fits, p));
      const html = await renderReportHtml({
        title: ctx.params.report.title,
        subtitle: `experiment '${ctx.experiment}'${config.description ? `: ${String(config.description)}` : ''}`,
        ...(Object.keys(ctx.overrides).length
          ? { banner: `Overrides: this is variant '${ctx.experiment}' of experiment '${ctx.baseExperiment}', with values set on the command line: ${Object.entries(ctx.overrides).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ')}. The unmodified experiment's report is reports/${ctx.baseExperiment}/index.html.` }
          : {}),
        intro: [
          `Reproduction of "Weak Correlations as the Underlying Principle for Linearization of Gradient-Based Learning Systems" (Shem-Ur, Cohen, Oz). Every number below comes from a cached pipeline task; slopes are least-squares fits of log y on log width over every (seed, width) point${fits.widest ? ` at each group's ${fits.widest} widest widths (the asymptotic end; the smaller widths are drawn, not fitted)` : ''}, with 95% t-intervals over the per-seed slopes (docs/science.md, "Intervals"); the seed bootstrap is kept as a secondary interval in the fits artifact.`,
          `Datasets: ${metas.map((m) => `${m.title} (${m.license}; ${Object.entries(m.splits).map(([s, v]) => `${s} ${v.count}${v.partial ? ', partial' : ''}`).join(', ')})`).join('; ')}.`,
        ],
        claims: protocols.flatMap((p, i) => p.claims?.(views[i]!) ?? []),
        verdictIntro: 'One row per claim of the paper, as the paper states it (its source and kind under the name). Each claim is judged against its bound, where the theorem\'s premises hold, and against the paper\'s measured slope, where the widths match the paper\'s. Measured slopes are least-squares fits of log value on log width with 95% t-intervals over the per-seed slopes: they cover seed-to-seed variation at the widths fitted here, not a curvature all seeds share, which the pre-asymptotic check catches.',
        ...(opts.verdictRule ? { verdictRule: opts.verdictRule } : {}),
        headline: protocols.flatMap((p, i) => p.headline(views[i]!)),
        headlineNote: 'Paper: the slope the paper reports (Figure 4 only; Figures 1-3 are shown, not fitted, in the paper). Reference: each line says what it is: a theorem\'s bound (slope ≤ …), a finite-width expectation, or the paper\'s stated expectation. Intervals: 95% t-intervals over the per-seed slopes; the note gives the widths fitted here next to the paper\'s.',
        figures: protocols.flatMap((p, i) => p.figures(views[i]!)),
        provenance: {
          experiment: ctx.experiment,
          config,
          git,
          runtime: {
            backends: fits.runtime.backends.join(', ') || 'none',
            'training compute': `${fits.runtime.trainGflop.toFixed(1)} GFLOP (matmul; wall times are in the task records: weakcorr show TASK)`,
          },
          packages: packageVersions(),
          tasks: { total: lineage.length, diverged: fits.counts.diverged ?? 0 },
          stages: stageCounts(lineage),
          notes: [
            `Task counts are the report's upstream tasks; failed tasks never reach a report (their dependents are skipped). When and where each task ran is in its record: weakcorr show TASK.`,
            ...metas.map((m) => `${m.dataset}: ${m.citation}`),
          ],
        },
      });
      ctx.progress(3, 3);
      await ctx.writeBytes('html', Buffer.from(html));
      ctx.log(`report: ${(html.length / 1e6).toFixed(2)} MB, ${lineage.length} upstream task(s)`);
    },
  });
}
