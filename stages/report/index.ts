// Stage 'report': one self-contained HTML page per experiment, published to
// reports/<experiment>/index.html.
import type { JsonObject, StageDecl } from '../../pipeline/engine/types.ts';
import { figures, headlineRows, type FitsArtifact } from './build.ts';
import { renderReportHtml } from './html.ts';
import { gitState, packageVersions, stageCounts } from './provenance.ts';

/** Every top-level config section: the report shows the whole experiment config. */
const SECTIONS = ['description', 'datasets', 'a1', 'a2', 'correlate', 'fit', 'report'];

interface DatasetMetaLike {
  dataset: string;
  title: string;
  license: string;
  citation: string;
  splits: Record<string, { count: number; partial: boolean }>;
}

export const reportStage: StageDecl = {
  name: 'report',
  module: import.meta.url,
  description: 'One self-contained HTML report with vega-lite figures and provenance',
  params: SECTIONS,
  perExperiment: true,
  wantsLineage: true,
  needs: [
    { stage: 'fit', outputs: ['fits'] },
    { stage: 'fetch', on: {}, outputs: ['meta'] },
  ],
  outputs: { html: { kind: 'bytes', publish: 'reports/{experiment}/index.html' } },
  async run(ctx) {
    const fits = await ctx.readJson<FitsArtifact>(ctx.inputs.fit![0]!.outputs.fits!);
    const metas = await Promise.all((ctx.inputs.fetch ?? []).map((t) => ctx.readJson<DatasetMetaLike>(t.outputs.meta!)));
    const config = Object.fromEntries(SECTIONS.map((k) => [k, ctx.params[k] ?? null])) as JsonObject;
    const lineage = ctx.lineage;
    const reportSection = ctx.params.report as { title: string };
    const git = gitState();
    ctx.progress(1, 3, 'figures');
    const html = await renderReportHtml({
      title: reportSection.title,
      subtitle: `experiment '${ctx.experiment}'${config.description ? `: ${String(config.description)}` : ''}`,
      ...(Object.keys(ctx.overrides).length
        ? { banner: `Overrides: this is variant '${ctx.experiment}' of experiment '${ctx.baseExperiment}', with values set on the command line: ${Object.entries(ctx.overrides).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ')}. The unmodified experiment's report is reports/${ctx.baseExperiment}/index.html.` }
        : {}),
      intro: [
        'Reproduction of "Weak Correlations as the Underlying Principle for Linearization of Gradient-Based Learning Systems" (Shem-Ur, Cohen, Oz). Every number below comes from a cached pipeline task; slopes are least-squares fits of log y on log width over every (seed, width) point, with 95% bootstrap intervals over seeds.',
        `Datasets: ${metas.map((m) => `${m.title} (${m.license}; ${Object.entries(m.splits).map(([s, v]) => `${s} ${v.count}${v.partial ? ', partial' : ''}`).join(', ')})`).join('; ')}.`,
      ],
      headline: headlineRows(fits),
      headlineNote: 'Paper: the slope the paper reports (Figure 4 only; Figures 1-3 are shown, not fitted, in the paper). Theory: our reading of Theorems 3.1/3.2 with m(n) = sqrt(n), an expectation rather than a measurement. The bootstrap resamples seeds; with few seeds its intervals are too narrow (see the note column).',
      figures: figures(fits),
      provenance: {
        experiment: ctx.experiment,
        config,
        git,
        runtime: {
          backends: fits.runtime.backends.join(', ') || 'none',
          'training compute': `${fits.runtime.trainGflop.toFixed(1)} GFLOP (matmul; wall times are in the task records: weakcorr show TASK)`,
        },
        packages: packageVersions(),
        tasks: { total: lineage.length, diverged: fits.counts.diverged },
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
};

