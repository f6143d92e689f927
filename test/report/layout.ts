// What the layout tests measure in a report page, shared by the fixture's browser test and the
// e2e test on a real report: SVG text inside its figure and not overlapping other text, table
// cells that do not overflow, no sideways scrolling, the verdict table first, no raw TeX.
import type { Page } from 'playwright-core';

export interface Layout {
  problems: string[];
  verdictsFirst: boolean;
  rows: number;
  pageScroll: number;
  raw: boolean;
}

/** Waits until `figures` charts have rendered interactively, opens the folded tables and measures. */
export async function measureLayout(page: Page, figures: number): Promise<Layout> {
  await page.waitForFunction((n) => document.querySelectorAll('.chart.interactive').length === n, figures, { timeout: 60_000 });
  // Open the folded tables so their cells are measured too (not vega-embed's menus).
  await page.$$eval('details', (ds) => ds.forEach((d) => { if (!d.closest('.vega-embed')) (d as HTMLDetailsElement).open = true; }));
  const layout = await page.evaluate(() => {
    const main = document.querySelector('main')!;
    const firstSection = main.querySelector('section');
    const firstTable = main.querySelector('table');
    const out: string[] = [];
    // SVG text inside its figure's box (1 px of antialiasing slack).
    document.querySelectorAll('.chart').forEach((chart, i) => {
      const svg = chart.querySelector('svg')!;
      const box = svg.getBoundingClientRect();
      const id = chart.closest('section')?.id ?? `figure ${i + 1}`;
      svg.querySelectorAll('text').forEach((t) => {
        const r = t.getBoundingClientRect();
        if (!t.textContent || r.width === 0 || t.closest('[opacity="0"]')) return;
        if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
          out.push(`${id}: text "${t.textContent}" outside its figure`);
      });
      if (box.right > main.getBoundingClientRect().right + 1) out.push(`${id} wider than the page column`);
      // Labels that overlap one another (axis labels, legends, titles).
      // Labels vega hid (overlap removal sets opacity 0) do not count. (No named helpers in
      // here: tsx's keepNames would reference a __name the page does not have.)
      const texts = [...svg.querySelectorAll('text')].filter(
        (t) => t.textContent && t.getBoundingClientRect().width > 0 && !t.closest('[opacity="0"]') && getComputedStyle(t).opacity !== '0',
      );
      const rs = texts.map((t) => t.getBoundingClientRect());
      for (let a = 0; a < rs.length; a++)
        for (let b = a + 1; b < rs.length; b++) {
          const p = rs[a]!;
          const q = rs[b]!;
          const ox = Math.min(p.right, q.right) - Math.max(p.left, q.left);
          const oy = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
          if (ox > 2 && oy > 2) out.push(`${id}: "${texts[a]!.textContent}" overlaps "${texts[b]!.textContent}"`);
        }
    });
    document.querySelectorAll('td, th').forEach((c) => {
      if (c.closest('#provenance pre')) return;
      if (c.scrollWidth > c.clientWidth + 1) out.push(`cell "${(c.textContent ?? '').slice(0, 40)}" overflows (${c.scrollWidth} > ${c.clientWidth})`);
    });
    document.querySelectorAll('.table-wrap').forEach((w) => {
      if (w.scrollWidth > w.clientWidth + 1 && !w.querySelector('table.headline, table.kv')) out.push(`table "${w.querySelector('th')?.textContent}" needs sideways scrolling`);
    });
    return {
      problems: out,
      verdictsFirst: firstSection?.id === 'verdicts' && !!firstTable?.classList.contains('verdicts'),
      rows: document.querySelectorAll('table.verdicts tbody tr').length,
      pageScroll: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      raw: document.body.innerText.includes('^{'),
    };
  });
  await page.$$eval('details', (ds) => ds.forEach((d) => ((d as HTMLDetailsElement).open = false)));
  return layout;
}
