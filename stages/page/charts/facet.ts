// Rows -> panels -> layers: the skeleton every faceted chart builds on. Rows become data points
// tagged with their panel (panels in order of first appearance); the layers draw them, one panel
// per facet cell, or a plain layered chart when there is a single panel.

import { F, fmtScalar, pick, type DataRow, type Datum, type LayerItem, type Scalar, type TopLevelSpec } from './data.ts';
import { config } from './style.ts';
import { ROW_FIELD } from '../figure-data.ts';

/** How a chart splits its rows into panels and lays them out. */
export interface PanelOptions {
  /** Fields that define one panel each, e.g. ['dataset', 'activation'] or ['alpha']. */
  panelBy?: readonly string[];
  /** Panel title from the panel's field values (default: defaultPanelLabel). */
  panelLabel?: (key: Record<string, Scalar>) => string;
  /** Panels per row (default 3). */
  columns?: number;
  title?: string;
  /** Size of one panel (each chart has its own default). */
  width?: number;
  height?: number;
  /** Let each panel have its own y range (default false: shared, comparable). */
  independentY?: boolean;
}

/** Default panel label: strings as they are, numbers and booleans as `field=value`. */
export function defaultPanelLabel(key: Record<string, Scalar>): string {
  const parts = Object.entries(key).map(([k, v]) => (typeof v === 'string' ? v : `${k}=${fmtScalar(v)}`));
  return parts.length ? parts.join(' · ') : 'all';
}

/** A layer with its y encoding's title replaced (null: no title). */
function withYTitle(l: LayerItem, title: string | null): LayerItem {
  const enc = (l as { encoding?: { y?: object } }).encoding;
  if (!enc?.y) return l;
  return { ...l, encoding: { ...enc, y: { ...enc.y, title } } } as LayerItem;
}

export interface Faceting {
  /** Panel title -> the panel's field values, in order of first appearance among kept rows. */
  readonly panels: ReadonlyMap<string, Record<string, Scalar>>;
  /** The chart's data points; builders may push more (fits, references) before `spec`. */
  readonly values: Datum[];
  /** The panel title a row or key belongs to (only the panelBy fields count). */
  panelOf(key: Record<string, Scalar>): string;
  /** The spec over `values`: faceted by panel when there is more than one. Layers whose `_kind`
   *  filter selects no point are left out (an empty layer has no extent: vega warns). `extra.yTitle`:
   *  the y axis title, once for the whole grid (left of it) when faceted; `extra.params`: top-level
   *  parameters (e.g. a checkbox). */
  spec(layers: LayerItem[], description?: string, extra?: { yTitle?: string; params?: unknown[] }): TopLevelSpec;
}

/**
 * Tag each row's data point with its panel. `toDatum` gets the row and its panel title and returns
 * the point (with `_panel` set to that title), or null to leave the row out: a panel exists only
 * when some row of it is kept.
 */
export function facet(
  rows: readonly DataRow[],
  o: PanelOptions,
  size: { width: number; height: number },
  toDatum: (row: DataRow, panel: string) => Datum | null,
): Faceting {
  const label = o.panelLabel ?? defaultPanelLabel;
  const panelBy = o.panelBy ?? [];
  const panelOf = (key: Record<string, Scalar>) => label(pick(key, panelBy));
  const panels = new Map<string, Record<string, Scalar>>();
  const values: Datum[] = [];
  for (const [i, r] of rows.entries()) {
    const p = panelOf(r);
    const d = toDatum(r, p);
    if (!d) continue;
    // Which input row it came from: the page stores the row's values once (figure-data.ts).
    d[ROW_FIELD] = i;
    if (!panels.has(p)) panels.set(p, pick(r, panelBy));
    values.push(d);
  }
  const spec = (all: LayerItem[], description?: string, extra: { yTitle?: string; params?: unknown[] } = {}): TopLevelSpec => {
    const kinds = new Set(values.map((v) => v[F.kind]));
    let layers = all.filter((l) => {
      const f = (l as { transform?: { filter?: unknown }[] }).transform?.[0]?.filter;
      const kind = typeof f === 'string' ? /datum\._kind === '([^']+)'/.exec(f)?.[1] : undefined;
      return kind === undefined || kinds.has(kind);
    });
    // One y title per grid: the axes of a facet's rows would each repeat it.
    const gridTitle = panels.size > 1 && extra.yTitle !== undefined && !o.title;
    if (gridTitle) layers = layers.map((l) => withYTitle(l, null));
    else if (extra.yTitle !== undefined) layers = layers.map((l) => withYTitle(l, extra.yTitle!));
    const base = {
      ...(o.title ? { title: o.title } : gridTitle ? { title: { text: extra.yTitle!, orient: 'left' as const, anchor: 'middle' as const, fontSize: 12, fontWeight: 'normal' as const, offset: 4 } } : {}),
      ...(extra.params?.length ? { params: extra.params as never[] } : {}),
      ...(description ? { description } : {}),
      data: { values },
      config,
    };
    const width = o.width ?? size.width;
    const height = o.height ?? size.height;
    if (panels.size <= 1) return { ...base, width, height, layer: layers };
    const columns = Math.max(1, Math.min(o.columns ?? 3, panels.size));
    // A shared x axis sits in a footer under every column, also under the empty slots of a
    // short last row; an axis per panel leaves those slots blank.
    const ragged = panels.size % columns !== 0;
    const resolve = {
      ...(o.independentY ? { scale: { y: 'independent' as const } } : {}),
      ...(ragged ? { axis: { x: 'independent' as const } } : {}),
    };
    return {
      ...base,
      facet: { field: F.panel, type: 'nominal', title: null, sort: [...panels.keys()] },
      columns,
      spec: { width, height, layer: layers },
      ...(Object.keys(resolve).length ? { resolve } : {}),
    };
  };
  return { panels, values, panelOf, spec };
}
