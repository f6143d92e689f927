// What the report page is built from: the input of renderReportHtml and its parts.

import type { Claim } from '../stats/verdict.ts';
import type { DataRow, TopLevelSpec } from './charts/index.ts';

export type { Claim, Verdict } from '../stats/verdict.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One claim of the paper next to what this run measured. */
export interface HeadlineRow {
  /** The claim, e.g. 'Fig. 4: MSE_test(f, f_lin) vs width, alpha = -0.5'. */
  claim: string;
  /** The paper's value, as text (e.g. '−1.30'); null/omitted: none given. */
  paper?: string | null;
  /** The theory guide, as text (e.g. '−2 (2α − 1)'); null/omitted: none. */
  theory?: string | null;
  /** Measured slope and its 95% CI (null when undefined). */
  slope: number | null;
  ciLo: number | null;
  ciHi: number | null;
  r2: number | null;
  /** Points that entered the fit. */
  nPoints: number;
  nSeeds?: number;
  /** Points excluded (diverged, non-finite, non-positive). */
  excluded?: number;
  /** Free-text remark, e.g. the CI note or which option was used. */
  note?: string | null;
}

export interface FigureInput {
  /** Short id used for anchors and the CSV file name, e.g. 'fig1-c02'. */
  id: string;
  title: string;
  /** Plain text. Say what is data (points, fitted lines) and what is expectation (dashed lines). */
  caption: string;
  spec: TopLevelSpec;
  /** The figure's data, offered as CSV (usually the measured rows behind the points). */
  data: readonly DataRow[];
  /** CSV column order (default: keys in order of first appearance). */
  columns?: readonly string[];
  /** The paper's counterpart, for the report's "ours -> paper" list, e.g. 'Fig. 4' or
   *  'Fig. 1 (it plots Eq. 25; this figure the exact value)'. Omitted: not in the paper. */
  paperFigure?: string;
}

export interface TaskCounts {
  /** Run-dependent counts: left out of a deterministic report. */
  executed?: number;
  cached?: number;
  failed?: number;
  /** Upstream tasks the report was built from. */
  total?: number;
  /** Runs that finished but diverged (excluded from fits). */
  diverged: number;
  /** Tasks skipped because an upstream task failed. */
  skipped?: number;
}

export interface StageTiming {
  stage: string;
  /** Wall-clock seconds this stage's tasks were running (a sum); absent in a deterministic report. */
  wallSeconds?: number;
  tasks?: number;
  executed?: number;
  cached?: number;
  failed?: number;
}

export interface Provenance {
  /** Experiment name, e.g. 'quick'. */
  experiment?: string;
  /** The resolved experiment config (shown as pretty JSON). */
  config: JsonValue;
  git: { commit: string; dirty: boolean; branch?: string | null };
  /** Backend, device, Node version, host, ...: shown as a key/value table. */
  runtime: Record<string, string>;
  /** Package name -> version. */
  packages: Record<string, string>;
  tasks: TaskCounts;
  stages: readonly StageTiming[];
  /** Free-form extra lines, e.g. the command line. */
  notes?: readonly string[];
}

export interface ReportInput {
  title: string;
  subtitle?: string;
  /** Plain-text paragraphs shown under the title. */
  intro?: readonly string[];
  /** A warning shown under the title, e.g. that this is a variant with command-line overrides. */
  banner?: string;
  /** Shown verbatim (e.g. an ISO time); omitted keeps the output byte-deterministic. */
  generatedAt?: string;
  /** One row per claim of the paper, shown first (the protocols' claims(), in registry order). */
  claims?: readonly Claim[];
  /** A short introduction above the verdict table: what a row is and what its intervals cover. */
  verdictIntro?: string;
  /** The rule that turns a claim's measurement into its verdict word, as one plain-text sentence. */
  verdictRule?: string;
  headline: readonly HeadlineRow[];
  /** Plain text under the headline table. */
  headlineNote?: string;
  figures: readonly FigureInput[];
  provenance: Provenance;
  /** Inline the vega bundles for tooltips and zoom (default true; about 0.8 MB). */
  interactive?: boolean;
}
