import assert from 'node:assert/strict';
import {
  compileToVega,
  defaultPanelLabel,
  dynamicsChart,
  estimatorChart,
  renderSvg,
  scalingChart,
  type DataRow,
} from '../../stages/page/charts/index.ts';

/** Number of `<tag` elements inside every `<g class="mark-<type> role-mark <name>_marks">` group. */
function countMarks(svg: string, type: string, name: string, tag = 'path'): number {
  // Empty groups are self-closing (`<g .../>`): match only groups with content.
  const re = new RegExp(`<g class="mark-${type} role-mark ${name}_marks"[^>]*[^/]>(.*?)</g>`, 'gs');
  let n = 0;
  for (const m of svg.matchAll(re)) n += (m[1].match(new RegExp(`<${tag}[\\s>]`, 'g')) ?? []).length;
  return n;
}

/** Points on a 2 x 2 panel grid, 3 seeds x 4 widths each, plus rows that cannot be drawn. */
function gridRows(): DataRow[] {
  const rows: DataRow[] = [];
  for (const dataset of ['mnist', 'cifar10'])
    for (const activation of ['relu', 'erf'])
      for (let seed = 0; seed < 3; seed++)
        for (const width of [8, 16, 32, 64]) rows.push({ dataset, activation, seed, width, value: (seed + 1) / width });
  rows.push({ dataset: 'mnist', activation: 'relu', seed: 9, width: 8, value: null }); // diverged
  rows.push({ dataset: 'mnist', activation: 'relu', seed: 9, width: 16, value: 0 }); // not on a log axis
  rows.push({ dataset: 'mnist', activation: 'relu', seed: 9, width: 32, value: Number.NaN });
  return rows;
}

describe('report/charts', () => {
  it('renders a log-log scaling chart with one symbol per valid point, a line per fit and per reference', async () => {
    const rows = gridRows();
    const fits = ['mnist', 'cifar10'].flatMap((dataset) =>
      ['relu', 'erf'].map((activation) => ({
        key: { dataset, activation },
        slope: -1,
        intercept: Math.log(2),
        xMin: 8,
        xMax: 64,
        ciLo: -1.1,
        ciHi: -0.9,
      })),
    );
    const spec = scalingChart({
      rows,
      panelBy: ['dataset', 'activation'],
      fits,
      references: [
        { slope: -0.5, label: 'theory: −1/2' },
        { key: { dataset: 'mnist' }, slope: -0.75, label: 'theory: −3/4' },
      ],
      columns: 2,
    });
    const svg = await renderSvg(spec);
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal(countMarks(svg, 'symbol', 'points'), 48);
    assert.equal(countMarks(svg, 'line', 'fits'), 4);
    // -1/2 in every panel, -3/4 only in the two mnist panels.
    assert.equal(countMarks(svg, 'line', 'references'), 6);
    // Named once each in a legend below the panels, not by text on the data.
    assert.match(svg, /aria-label="Symbol legend titled 'Dashed grey: reference slopes \(not fits to this data\)' for strokeDash with 2 values: theory: −1\/2, theory: −3\/4"/);
    assert.equal((svg.match(/>theory: −3\/4<\/text>/g) ?? []).length, 1);
    assert.equal(countMarks(svg, 'text', 'reference_labels_left', 'text'), 0);
    // Four facet headers, in order of first appearance.
    const headers = [...svg.matchAll(/aria-label="Title text '([^']+)'"/g)].map((m) => m[1]);
    for (const h of ['mnist · relu', 'mnist · erf', 'cifar10 · relu', 'cifar10 · erf']) assert.ok(headers.includes(h), h);
  });

  it('renders a single panel without a facet, coloured by a field', async () => {
    const rows: DataRow[] = [];
    for (const depth of [1, 2, 3]) for (const width of [8, 64, 512]) rows.push({ depth, width, seed: 0, value: depth / width });
    const spec = scalingChart({ rows, colorBy: 'depth', fits: [1, 2, 3].map((d) => ({ key: { depth: d }, slope: -1, intercept: Math.log(d), xMin: 8, xMax: 512 })) });
    assert.ok(!('facet' in spec));
    const svg = await renderSvg(spec);
    assert.equal(countMarks(svg, 'symbol', 'points'), 9);
    assert.equal(countMarks(svg, 'line', 'fits'), 3);
    assert.equal(countMarks(svg, 'line', 'references'), 0);
    assert.doesNotMatch(svg, /reference slopes/, 'no reference lines, no legend for them');
    // A colour legend with the three depths.
    assert.match(svg, /aria-label="Symbol legend titled 'depth' for [^"]*color with 3 values: 1, 2, 3"/);
  });

  it('renders training dynamics: one line per (panel, model, split)', async () => {
    const rows: DataRow[] = [];
    for (const width of [64, 1024])
      for (const split of ['train', 'test'])
        for (const model of ['net', 'linearized'])
          for (let step = 0; step <= 100; step += 10) rows.push({ width, split, model, step, loss: 1 / (1 + step) });
    const svg = await renderSvg(dynamicsChart({ rows, panelBy: ['width'], split: 'split' }));
    assert.equal(countMarks(svg, 'line', 'lines'), 8);
  });

  it('renders the estimator comparison with the y = x line', async () => {
    const rows: DataRow[] = [];
    for (let i = 1; i <= 12; i++) rows.push({ depth: (i % 3) + 1, exact: i / 100, sampled: (i / 100) * (1 + 0.1 * Math.sin(i)) });
    rows.push({ depth: 1, exact: 0.1, sampled: 0 });
    const svg = await renderSvg(estimatorChart({ rows, colorBy: 'depth' }));
    assert.equal(countMarks(svg, 'symbol', 'points'), 12);
    assert.equal(countMarks(svg, 'line', 'diagonal'), 1);
  });

  it('renders the same bytes for the same spec (ids do not depend on earlier renders)', async () => {
    const spec = scalingChart({ rows: gridRows(), panelBy: ['dataset'] });
    const a = await renderSvg(spec);
    await renderSvg(dynamicsChart({ rows: [{ step: 0, loss: 1, model: 'net' }, { step: 1, loss: 0.5, model: 'net' }] }));
    assert.equal(await renderSvg(spec), a);
    assert.match(a, /clip-path="url\(#id1\)"/);
  });

  it('compiles to vega and rejects invalid specs', async () => {
    const vg = await compileToVega(scalingChart({ rows: gridRows() }));
    assert.ok(Array.isArray(vg.data));
    await assert.rejects(() => compileToVega({ mark: 'nonsense' } as never));
  });

  it('labels panels readably', () => {
    assert.equal(defaultPanelLabel({ dataset: 'mnist', depth: 2 }), 'mnist · depth=2');
    assert.equal(defaultPanelLabel({ alpha: -0.25 }), 'alpha=-0.25');
    assert.equal(defaultPanelLabel({}), 'all');
  });
});
