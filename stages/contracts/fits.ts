// Contract of the fit stage's 'fits' output: power-law fits in width per group, and the row tables
// they were fitted on (one or more per protocol). The report reads it through this type.
import { Type, type Static } from '@sinclair/typebox';
import { artifactOptions } from './common.ts';

// The fitter's result types (stages/stats/powerlaw.ts produces them; the contract owns them).
/** Why points were left out of a fit. */
/** nearFloor: the value is within FLOOR_MARGIN (10x) of the rounding floor measured on its run. */
export type ExclusionReason = 'nonFiniteY' | 'nonPositiveY' | 'invalidX' | 'nearFloor' | `status:${string}`;

export interface ExclusionSummary {
  /** Points handed in. */
  total: number;
  /** Points kept for the fit. */
  kept: number;
  /** Points excluded (total - kept). */
  excluded: number;
  /** Excluded points by reason; each point is counted once, under the first reason that applies
   *  (status first, then x, then y). */
  byReason: Partial<Record<ExclusionReason, number>>;
}


export interface SlopeCI {
  /** Confidence level, e.g. 0.95. */
  level: number;
  lo: number;
  hi: number;
  /** Resamples drawn. */
  resamples: number;
  /** Resamples whose slope was defined and entered the percentiles. */
  used: number;
  /** Resamples with fewer than two distinct widths (slope undefined): skipped. */
  degenerate: number;
  /** Seed of the bootstrap PRNG. */
  seed: number | string;
  method: 'percentile, seeds resampled with replacement';
}

/** `mean +- t_{k-1} sd / sqrt(k)` over the k per-seed OLS slopes. */
export interface SlopeInterval {
  level: number;
  lo: number;
  hi: number;
  /** Mean of the per-seed slopes (the pooled slope when every seed has every width). */
  mean: number;
  /** Sample standard deviation of the per-seed slopes. */
  sd: number;
  /** Seeds with a defined slope (k). */
  seeds: number;
  /** t_{k-1, (1+level)/2}. */
  t: number;
  method: 't over per-seed slopes';
}

/** One seed's own OLS slope over its widths. */
export interface SeedSlope {
  seed: number | string;
  slope: number;
  nWidths: number;
}

/** Slopes between neighbouring widths (mean of ln y over seeds per width), smallest widths first. */
export interface LocalSlopes {
  first: number | null;
  last: number | null;
  all: number[];
}

export interface PowerLawFit {
  /** Fitted exponent (d log y / d log x); null when fewer than 2 points or 1 distinct width. */
  slope: number | null;
  /** Natural-log intercept: y = exp(intercept) * x^slope. */
  intercept: number | null;
  r2: number | null;
  /** Points that entered the fit. */
  nPoints: number;
  /** Distinct seeds among them. */
  nSeeds: number;
  /** Distinct widths among them. */
  nWidths: number;
  /** The fitted width range (smallest and largest width that entered the fit). */
  xMin: number | null;
  xMax: number | null;
  /** Per-seed slopes (seeds with two or more distinct widths), in seed order. */
  perSeed: SeedSlope[];
  /** Primary 95% interval: t-interval over `perSeed`; null when it cannot be formed (see `ciNote`). */
  ci: SlopeInterval | null;
  /** Why `ci` is null, or a caveat about it. */
  ciNote: string | null;
  /** Secondary: percentile bootstrap over seeds (undercovers at 3-5 seeds); null when it cannot be formed. */
  bootstrap: SlopeCI | null;
  excluded: ExclusionSummary;
  /** Local slopes between neighbouring widths: how much the fitted range still bends. */
  local: LocalSlopes;
}

export const FITS_ID = 'weakcorr/fits@1';

/** One value of a row table: a grid coordinate or a measurement (null: not finite, diverged). */
export const Cell = Type.Union([Type.String(), Type.Number(), Type.Null()]);
export const RowSchema = Type.Record(Type.String(), Cell);
export type Row = Static<typeof RowSchema>;

export const ExpectationSchema = Type.Object({
  label: Type.String({ description: "this group's line: what it is and its slope" }),
  slope: Type.Number(),
  legend: Type.Optional(Type.String({ description: 'the legend entry shared by every group with this kind of line (default: label)' })),
});
export type Expectation = Static<typeof ExpectationSchema>;

/** PowerLawFit (above); the schema checks its outline. */
const FitSchema = Type.Unsafe<PowerLawFit>(Type.Object({
  slope: Type.Union([Type.Number(), Type.Null()]),
  intercept: Type.Union([Type.Number(), Type.Null()]),
  r2: Type.Union([Type.Number(), Type.Null()]),
  nPoints: Type.Integer(),
  nSeeds: Type.Integer(),
  nWidths: Type.Integer(),
  xMin: Type.Union([Type.Number(), Type.Null()], { description: 'fitted width range: smallest width' }),
  xMax: Type.Union([Type.Number(), Type.Null()], { description: 'fitted width range: largest width' }),
  perSeed: Type.Array(Type.Object({ seed: Type.Union([Type.Number(), Type.String()]), slope: Type.Number(), nWidths: Type.Integer() })),
  ci: Type.Union([Type.Object({
    level: Type.Number(), lo: Type.Number(), hi: Type.Number(), mean: Type.Number(), sd: Type.Number(),
    seeds: Type.Integer(), t: Type.Number(), method: Type.Literal('t over per-seed slopes'),
  }, { description: 'primary interval: mean +- t_{k-1} sd / sqrt(k) over the per-seed slopes' }), Type.Null()]),
  ciNote: Type.Union([Type.String(), Type.Null()]),
  bootstrap: Type.Union([Type.Object({ lo: Type.Number(), hi: Type.Number() }, { description: 'secondary: percentile bootstrap over seeds' }), Type.Null()]),
  excluded: Type.Object({}),
  local: Type.Object({
    first: Type.Union([Type.Number(), Type.Null()]), last: Type.Union([Type.Number(), Type.Null()]), all: Type.Array(Type.Number()),
  }, { description: 'slopes between neighbouring widths (mean of ln y over seeds), smallest widths first' }),
}));

export const FitGroupSchema = Type.Object({
  metric: Type.String({ description: "the fit's id within its protocol, e.g. 'fig4-mse', 'fig1-c02'" }),
  key: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
  id: Type.String(),
  fit: FitSchema,
  paper: Type.Union([Type.Number(), Type.Null()]),
  expectations: Type.Array(ExpectationSchema),
}, { additionalProperties: false });
export type FitGroupResult = Static<typeof FitGroupSchema>;

export const FitsSchema = Type.Object({
  schema: Type.Literal(FITS_ID),
  bootstrap: Type.Object({ resamples: Type.Integer(), seed: Type.Integer() }),
  widest: Type.Union([Type.Integer({ minimum: 2 }), Type.Null()], { description: 'each group fitted on its N widest widths only; null: every width' }),
  groups: Type.Array(FitGroupSchema),
  rows: Type.Record(Type.String(), Type.Array(RowSchema), { description: 'row tables by name (each protocol names its own), sorted by name' }),
  counts: Type.Record(Type.String(), Type.Integer(), { description: 'rows per counted table, and diverged training runs' }),
  runtime: Type.Object({
    backends: Type.Array(Type.String()),
    trainGflop: Type.Number(),
  }, { description: 'backends and tfjs versions the training tasks reported' }),
}, artifactOptions('fits.schema.json', "Output 'fits' of the fit stage: power-law fits in width, and the rows they were fitted on"));

export type Fits = Static<typeof FitsSchema>;
