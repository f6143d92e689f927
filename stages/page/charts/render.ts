// Static SVG rendering in Node, without a browser or canvas: vega-lite compiles the spec to vega,
// and a headless vega View with renderer 'none' serializes the scenegraph to SVG.

import type * as Vega from 'vega';
import type { TopLevelSpec } from './data.ts';

// vega and vega-lite load on first use: importing the chart builders (every protocol does, so
// every command does) must not cost their start-up.
let modules: Promise<[typeof import('vega'), typeof import('vega-lite')]> | undefined;
const load = () => (modules ??= Promise.all([import('vega'), import('vega-lite')]));

/** Compile a vega-lite spec to a vega spec (rejects an invalid spec). */
export async function compileToVega(spec: TopLevelSpec): Promise<Vega.Spec> {
  const [, vl] = await load();
  return vl.compile(spec).spec;
}

/**
 * Render a vega-lite spec to a standalone SVG string.
 * Deterministic: vega numbers clip-path ids with a process-wide counter, so ids are renumbered
 * (`${idPrefix}1`, `${idPrefix}2`, ... in order of appearance) and the same spec always gives the
 * same bytes. A page that inlines several SVGs gives each its own prefix.
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix = 'id'): Promise<string> {
  const [vega] = await load();
  const view = new vega.View(vega.parse(await compileToVega(spec)), { renderer: 'none' });
  try {
    return renumberSvgIds(await view.toSVG(), idPrefix);
  } finally {
    view.finalize();
  }
}

/**
 * Rename every id in an SVG to `${prefix}1`, `${prefix}2`, ... in order of first appearance, and
 * rewrite its references (`url(#id)`, `href="#id"`). Gives page-unique ids when several SVGs are
 * inlined in one HTML page (each vega SVG numbers its clip paths on its own).
 */
export function renumberSvgIds(svg: string, prefix: string): string {
  const map = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) if (!map.has(m[1])) map.set(m[1], `${prefix}${map.size + 1}`);
  if (map.size === 0) return svg;
  const to = (id: string) => map.get(id);
  return svg.replace(/(\sid=")([^"]+)"|url\(#([^)]+)\)|(\shref=")#([^"]+)"/g, (all, idAttr, id, urlId, hrefAttr, hrefId) => {
    if (idAttr !== undefined) return to(id) ? `${idAttr}${to(id)}"` : all;
    if (urlId !== undefined) return to(urlId) ? `url(#${to(urlId)})` : all;
    return to(hrefId) ? `${hrefAttr}#${to(hrefId)}"` : all;
  });
}
