// Runs in the browser after the inlined vega bundles: draws each figure once, as SVG, from its
// JSON block (figure-data.ts: the compiled vega spec, points, CSV rows), with tooltips, pan and
// zoom; and writes a figure's CSV download from the same block when its link is clicked. Bundled
// into an inline script when the report is built (../assets.ts).
//
// Drawing all figures at once held the page for over a second (vega parses each spec into a
// dataflow and runs it): figures on or near the screen are drawn first, as they come into view;
// the others one at a time while the browser is idle, so all are drawn soon after load; a print
// draws whatever is left first (vega's chain is promises only, so it completes before the page
// is printed).

import type embed from 'vega-embed';
import type { VisualizationSpec } from 'vega-embed';
import { attachValues, decodePoints, decodeTable, toCsv, type FigureData } from '../figure-data.ts';

/** The global that the vega-embed bundle defines; absent if it failed to load. */
declare const vegaEmbed: typeof embed | undefined;

const blocks = new Map<string, { data: FigureData; rows: ReturnType<typeof decodeTable> }>();

function block(id: string): { data: FigureData; rows: ReturnType<typeof decodeTable> } {
  let b = blocks.get(id);
  if (!b) {
    const data = JSON.parse(document.getElementById(id)?.textContent ?? '') as FigureData;
    b = { data, rows: decodeTable(data.rows) };
    blocks.set(id, b);
  }
  return b;
}

function draw(el: Element, render: typeof embed): void {
  const id = el.getAttribute('data-figure') ?? '';
  let spec: VisualizationSpec;
  try {
    const { data, rows } = block(id);
    spec = attachValues(data.spec, decodePoints(data.points, rows)) as VisualizationSpec;
  } catch (e) {
    console.error(`report: cannot read figure data ${id}: ${String(e)}`);
    return;
  }
  render(el as HTMLElement, spec, {
    mode: 'vega',
    renderer: 'svg',
    actions: { export: true, source: false, compiled: false, editor: false },
    tooltip: true,
  })
    .then(() => el.classList.add('interactive'))
    .catch((err: unknown) => {
      const p = document.createElement('p');
      p.className = 'error';
      p.textContent = `This figure could not be drawn: ${String(err)}. Its data is still in the CSV download.`;
      el.appendChild(p);
      console.error(`report: figure ${id}: ${String(err)}`);
    });
}

// A CSV download is written when its link is clicked (before the browser follows the link).
document.addEventListener('click', (ev) => {
  const a = (ev.target as Element | null)?.closest?.('a[data-csv]') as HTMLAnchorElement | null;
  if (!a || a.getAttribute('href') !== '#') return;
  try {
    const { data, rows } = block(a.getAttribute('data-csv') ?? '');
    a.href = URL.createObjectURL(new Blob([toCsv(rows, data.csvColumns)], { type: 'text/csv;charset=utf-8' }));
  } catch (e) {
    ev.preventDefault();
    console.error(`report: cannot write CSV: ${String(e)}`);
  }
});

/** Figures not drawn yet, in page order. */
const undrawn = new Set<Element>();

function drawOne(el: Element): void {
  if (!undrawn.delete(el) || typeof vegaEmbed !== 'function') return;
  draw(el, vegaEmbed);
}

// Printing draws every figure and shows the folded tables too (not vega-embed's actions menu, also a <details>).
window.addEventListener('beforeprint', () => {
  undrawn.forEach(drawOne);
  document.querySelectorAll('details').forEach((d) => {
    if (!d.closest('.vega-embed')) d.open = true;
  });
});

/** Draws the first undrawn figure when the browser is idle, then schedules the next. */
function drawWhenIdle(): void {
  const next = (): void => {
    const first = undrawn.values().next();
    if (first.done) return;
    drawOne(first.value);
    drawWhenIdle();
  };
  // The timeout keeps the figures coming on a page that is never idle (an animation elsewhere).
  if (typeof requestIdleCallback === 'function') requestIdleCallback(next, { timeout: 500 });
  else setTimeout(next, 50);
}

if (typeof vegaEmbed !== 'function') console.error('report: vega-embed not available; figures cannot be drawn');
else {
  document.querySelectorAll('.chart[data-figure]').forEach((el) => undrawn.add(el));
  if (typeof IntersectionObserver === 'function') {
    // A screen ahead, so a figure scrolled to is usually drawn already.
    const seen = new IntersectionObserver((entries) => entries.forEach((e) => {
      if (!e.isIntersecting) return;
      seen.unobserve(e.target);
      drawOne(e.target);
    }), { rootMargin: '100% 0px' });
    undrawn.forEach((el) => seen.observe(el));
    // Off-screen figures: after the load event (the page is shown and scrolls meanwhile).
    if (document.readyState === 'complete') drawWhenIdle();
    else window.addEventListener('load', drawWhenIdle, { once: true });
  } else undrawn.forEach(drawOne);
}
