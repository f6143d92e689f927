// What a protocol is: everything one experiment protocol of the paper (A.1, A.2, ...) adds to the
// pipeline, in one folder. The fit and report stages iterate the registry (registry.ts), so a
// protocol's fits, figures and headline rows appear without touching either stage.
import type { TObject } from '@sinclair/typebox';
import type { Stage } from '../../pipeline/engine/define-stage.ts';
import type { StageDecl } from '../../pipeline/engine/types.ts';
import type { Expectation, FitGroupResult, Row } from '../contracts/fits.ts';
import type { FigureInput, HeadlineRow } from '../page/html.ts';
import type { Claim } from '../stats/verdict.ts';

export type { Claim, Verdict } from '../stats/verdict.ts';

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

/** A stage's JSON output the fit stage reads from every task of the stage, checked against its contract. */
export interface ProtocolRead<V> {
  stage: StageDecl;
  output: string;
  parse(value: unknown, where: string): V;
}

/** Read `output` of every task of `stage`: the protocol's tables receive the output's contract type. */
export function read<T, K extends keyof T & string>(stage: Stage<string, T, string>, output: K): ProtocolRead<T[K]> {
  return { stage, output, parse: (value, where) => stage.json[output].parse(value, where) };
}



/** `Table`: the names of its row tables; `V`: what each of its reads gives, by read name. */
export interface Protocol<Table extends string = string, V = Record<string, unknown>> {
  /** Short id, e.g. 'a1'; train-results carry it as `protocol`. */
  id: string;
  title: string;
  /** Experiment config sections this protocol owns: section name -> schema (with defaults). */
  config: Record<string, TObject>;
  /** The stages it adds to the DAG (its training stage, and any per-net measurement). */
  stages: StageDecl[];
  /** Read name -> a stage output the fit stage reads from all of that stage's tasks (`read(stage, output)`). */
  reads: { [K in keyof V]: ProtocolRead<V[K]> };
  /** Row tables from those outputs: `all(name)` is a read's values, in task order. */
  tables(all: <K extends keyof V & string>(name: K) => V[K][]): Record<Table, Row[]>;
  /** Tables whose row count the fits artifact reports. */
  counted: Table[];
  fits: FitSpec<Table>[];
  figures(view: ProtocolView<Table>): FigureInput[];
  headline(view: ProtocolView<Table>): HeadlineRow[];
  /** The claims this protocol tests, for the verdict table at the top of the report. */
  claims?(view: ProtocolView<Table>): Claim[];
}

/**
 * Checks a protocol against the interface with its own table names (given) and reads (inferred),
 * then widens it for the registry: `defineProtocol<'a2'>()({ ... })`.
 */
export function defineProtocol<Table extends string>(): <V>(p: Protocol<Table, V>) => Protocol {
  return (p) => p;
}
