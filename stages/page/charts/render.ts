// Static SVG rendering in Node, without a browser or canvas: vega-lite compiles the spec to vega,
// and a headless vega View with renderer 'none' serializes the scenegraph to SVG.

import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from './data.ts';

/** Compile a vega-lite spec to a vega spec (throws on an invalid spec). */
export function compileToVega(spec: TopLevelSpec): vega.Spec {
  return vl.compile(spec).spec;
}

/**
 * Render a vega-lite spec to a standalone SVG string.
 * Deterministic: vega numbers clip-path ids with a process-wide counter, so ids are renumbered
 * (`${idPrefix}1`, `${idPrefix}2`, ... in order of appearance) and the same spec always gives the
 * same bytes. A page that inlines several SVGs gives each its own prefix.
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix = 'id'): Promise<string> {
  const view = new vega.View(vega.parse(compileToVega(spec)), { renderer: 'none' });
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
