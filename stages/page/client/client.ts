// Runs in the browser after the inlined vega bundles: re-renders each figure from its spec
// (tooltips, pan and zoom) and swaps out the static SVG once the interactive one is ready.
// Compiled to an inline script when the report is built (../assets.ts).

import type embed from 'vega-embed';
import type { VisualizationSpec } from 'vega-embed';

/** The global that the vega-embed bundle defines; absent if it failed to load. */
declare const vegaEmbed: typeof embed | undefined;

function upgrade(el: Element, render: typeof embed): void {
  const id = el.getAttribute('data-spec') ?? '';
  let spec: VisualizationSpec;
  try {
    spec = JSON.parse(document.getElementById(id)?.textContent ?? '') as VisualizationSpec;
  } catch (e) {
    console.error(`report: cannot read spec ${id}: ${String(e)}`);
    return;
  }
  const live = document.createElement('div');
  live.className = 'live';
  // Hidden until rendered, so a failure leaves the static figure as it was.
  live.style.display = 'none';
  el.appendChild(live);
  render(live, spec, {
    mode: 'vega-lite',
    renderer: 'svg',
    actions: { export: true, source: false, compiled: false, editor: false },
    tooltip: true,
  })
    .then(() => {
      el.querySelector('.static')?.remove();
      live.style.display = '';
      el.classList.add('interactive');
    })
    .catch((err: unknown) => {
      live.remove();
      const p = document.createElement('p');
      p.className = 'error';
      p.textContent = `Interactive rendering failed; the static figure is shown. ${String(err)}`;
      el.appendChild(p);
      console.error(`report: figure ${id}: ${String(err)}`);
    });
}

// Printing shows the folded tables too (not vega-embed's actions menu, also a <details>).
window.addEventListener('beforeprint', () =>
  document.querySelectorAll('details').forEach((d) => {
    if (!d.closest('.vega-embed')) d.open = true;
  }),
);

if (typeof vegaEmbed !== 'function') console.warn('report: vega-embed not available; static figures kept');
else document.querySelectorAll('.chart[data-spec]').forEach((el) => upgrade(el, vegaEmbed));
