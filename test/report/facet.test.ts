import assert from 'node:assert/strict';
import { F, type DataRow, type LayerItem } from '../../stages/page/charts/data.ts';
import { facet } from '../../stages/page/charts/facet.ts';
import { renderSvg } from '../../stages/page/charts/render.ts';

const rows: DataRow[] = [
  { dataset: 'mnist', depth: 2, v: 1 },
  { dataset: 'cifar10', depth: 1, v: 2 },
  { dataset: 'mnist', depth: 1, v: -1 }, // dropped below: its panel must not appear
  { dataset: 'mnist', depth: 2, v: 3 },
];
const keep = (r: DataRow, p: string) => ((r.v as number) > 0 ? { [F.kind]: 'point', [F.panel]: p, [F.y]: r.v } : null);
/** A spec's top-level fields, for inspection. */
const fields = (spec: object) => spec as Record<string, unknown>;
const layer: LayerItem = { mark: 'point', encoding: { y: { field: F.y, type: 'quantitative' } } };

describe('report/charts: faceting helper', () => {
  it('groups kept rows into panels in order of first appearance, titled by the panel fields', () => {
    const f = facet(rows, { panelBy: ['dataset', 'depth'] }, { width: 10, height: 20 }, keep);
    assert.deepEqual([...f.panels.keys()], ['mnist · depth=2', 'cifar10 · depth=1']);
    assert.deepEqual(f.panels.get('cifar10 · depth=1'), { dataset: 'cifar10', depth: 1 });
    assert.deepEqual(f.values.map((v) => v[F.panel]), ['mnist · depth=2', 'cifar10 · depth=1', 'mnist · depth=2']);
    // Only the panel fields count, so a fit key with extra fields finds its panel.
    assert.equal(f.panelOf({ depth: 2, dataset: 'mnist', colour: 'red' }), 'mnist · depth=2');
  });

  it('facets several panels: sort, columns capped by the panel count, independent y on request', () => {
    const f = facet(rows, { panelBy: ['dataset'], columns: 5, independentY: true, title: 'T', panelLabel: (k) => `<${k.dataset}>` }, { width: 10, height: 20 }, keep);
    const spec = fields(f.spec([layer], 'about'));
    assert.deepEqual(Object.keys(spec), ['title', 'description', 'data', 'config', 'facet', 'columns', 'spec', 'resolve']);
    assert.deepEqual(spec.facet, { field: F.panel, type: 'nominal', title: null, sort: ['<mnist>', '<cifar10>'] });
    assert.equal(spec.columns, 2);
    assert.deepEqual(spec.spec, { width: 10, height: 20, layer: [layer] });
    assert.deepEqual(spec.resolve, { scale: { y: 'independent' } });
    assert.equal((spec.data as { values: unknown[] }).values, f.values);
  });

  it('draws one panel as a plain layered chart, with the caller’s size over the default', () => {
    const f = facet(rows, { width: 300 }, { width: 10, height: 20 }, keep);
    assert.deepEqual([...f.panels.keys()], ['all']);
    const spec = fields(f.spec([layer]));
    assert.ok(!('facet' in spec) && !('title' in spec) && !('description' in spec));
    assert.equal(spec.width, 300);
    assert.equal(spec.height, 20);
    assert.deepEqual(spec.layer, [layer]);
  });

  it('a short last row leaves its empty slots blank: no x axis under a panel that is not there', async () => {
    const five: DataRow[] = [1, 2, 3, 4, 5].map((k) => ({ k, x: 1, y: k }));
    const toPoint = (r: DataRow, p: string) => ({ [F.kind]: 'point', [F.panel]: p, [F.x]: r.x, [F.y]: r.y });
    const xy: LayerItem = { mark: 'point', encoding: { x: { field: F.x, type: 'quantitative' }, y: { field: F.y, type: 'quantitative' } } };
    const xAxes = async (n: number, columns: number) => {
      const svg = await renderSvg(facet(five.slice(0, n), { panelBy: ['k'], columns }, { width: 50, height: 40 }, toPoint).spec([xy]));
      return (svg.match(/aria-label="X-axis/g) ?? []).length;
    };
    assert.equal(await xAxes(5, 3), 5); // 3 + 2 panels: one axis each, none under the 6th slot
    assert.equal(await xAxes(4, 2), 2); // full rows: one shared axis per column
  });

  it('keeps points pushed after faceting (fits, references) in the spec’s data', () => {
    const f = facet(rows, { panelBy: ['dataset'] }, { width: 10, height: 20 }, keep);
    f.values.push({ [F.kind]: 'fit', [F.panel]: 'mnist' });
    const spec = f.spec([layer]) as { data: { values: unknown[] } };
    assert.equal(spec.data.values.length, 4);
  });
});
