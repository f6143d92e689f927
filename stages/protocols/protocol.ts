// What a protocol is: everything one experiment protocol of the paper (A.1, A.2, ...) adds to the
// pipeline, in one folder. The fit and report stages iterate the registry (registry.ts), so a
// protocol's fits, figures and headline rows appear without touching either stage.
import type { TObject } from '@sinclair/typebox';
import type { StageDecl } from '../../pipeline/engine/types.ts';
import type { Expectation, FitGroupResult, Row } from '../contracts/fits.ts';
import type { FigureInput, HeadlineRow } from '../report/html.ts';

export type GroupKey = FitGroupResult['key'];

/** One power-law fit the protocol wants: `value` against `width`, one group per `keys` combination. */
export interface FitSpec<Table extends string> {
  /** Unique across the registry; fit group ids are `<metric>:<group>`. */
  metric: string;
  table: Table;
  /** Columns that split the rows into groups (e.g. ['alpha']). */
  keys: string[];
  /** Column fitted against the row's `width`, per `seed`. */
  value: string;
  /** The paper's measured slope for a group, where it reports one. */
  paper?: (key: GroupKey) => number | null;
  /** Reference slopes drawn next to the fit, each labelled for what it is. */
  expectations: (key: GroupKey) => Expectation[];
}

/** What figures and headline rows see of the fit stage's output. */
export interface ProtocolView<Table extends string> {
  rows(table: Table): Row[];
  /** The fitted groups of one of this protocol's metrics. */
  groups(metric: string): FitGroupResult[];
}

/** A stage output the fit stage reads, from every task of the stage. */
export interface ProtocolRead {
  output: string;
}

/** How a measured slope compares with the paper and the theory (the rule is stated in the report). */
export type Verdict = 'consistent with the bound' | 'above the bound' | 'steeper than the paper' | 'flatter than the paper' | 'inconclusive' | 'not comparable' | 'contradicts the prediction';

/** One row of the report's verdict table: one claim of the paper, measured here. */
export interface Claim {
  /** Short name, e.g. 'Figure 4, α = -0.5'. */
  claim: string;
  /** The paper's value (its measured slope, or its statement), null where it gives none. */
  paper: string | null;
  /** The theorem's bound or expectation, labelled (e.g. 'bound: slope ≤ 0'). */
  bound: string | null;
  /** The paper's measured slope as a number, where it gives one (the slope chart draws it). */
  paperSlope: number | null;
  /** The upper bound on the slope that the verdict tested, as a number; null where there is none. */
  boundSlope: number | null;
  /** The fitted groups the claim rests on (ids in the fits artifact). */
  groups: string[];
  /** Measured slope(s): the range over the groups, each with its interval. */
  measured: { slope: number | null; lo: number | null; hi: number | null }[];
  /** Widths fitted here, and the paper's (e.g. '2048–19484', claims.ts widthText), so nobody compares them silently. */
  widths: { here: [number, number] | null; paper: string | null };
  verdict: Verdict;
  /** Why this verdict, in a few words (the rule that fired). */
  why: string;
}

export interface Protocol<Table extends string = string> {
  /** Short id, e.g. 'a1'; train-results carry it as `protocol`. */
  id: string;
  title: string;
  /** Experiment config sections this protocol owns: section name -> schema (with defaults). */
  config: Record<string, TObject>;
  /** The stages it adds to the DAG (its training stage, and any per-net measurement). */
  stages: StageDecl[];
  /** Stage name -> the output the fit stage reads from all of that stage's tasks. */
  reads: Record<string, ProtocolRead>;
  /** Row tables from those outputs (stage name -> the parsed outputs, in task order). */
  tables(results: Record<string, unknown[]>): Record<Table, Row[]>;
  /** Tables whose row count the fits artifact reports. */
  counted: Table[];
  fits: FitSpec<Table>[];
  figures(view: ProtocolView<Table>): FigureInput[];
  headline(view: ProtocolView<Table>): HeadlineRow[];
  /** The claims this protocol tests, for the verdict table at the top of the report. */
  claims?(view: ProtocolView<Table>): Claim[];
}

/** Checks a protocol against the interface with its own table names, then widens it for the registry. */
export function defineProtocol<Table extends string>(p: Protocol<Table>): Protocol {
  return p as unknown as Protocol;
}
