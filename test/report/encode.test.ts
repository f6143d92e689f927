import assert from 'node:assert/strict';
import { signed, type DataRow } from '../../stages/page/charts/index.ts';
import { csvColumns, escapeHtml, jsonForScript, prettyJson, textDataUri, toCsv } from '../../stages/page/encode.ts';
import type { JsonValue } from '../../stages/page/html.ts';
import { parseCsv, parseCsvWithPython } from './parse-csv.ts';

describe('report/encode', () => {
  it('writes CSV fields per RFC 4180 (d3-dsv), and d3-dsv and Python\'s csv module read them back', function () {
    const rows: DataRow[] = [
      { a: 'plain', b: 1.5, c: null },
      { a: 'with, comma', b: -2e-7, c: true },
      { a: 'quote " inside', b: Number.NaN, c: 'line\nbreak' },
      { a: ' padded ', d: 'only here' },
    ];
    const csv = toCsv(rows);
    assert.equal(
      csv,
      'a,b,c,d\nplain,1.5,,\n"with, comma",-2e-7,true,\n"quote "" inside",NaN,"line\nbreak",\n padded ,,,only here\n',
    );
    const fields = [['a', 'b', 'c', 'd'], ['plain', '1.5', '', ''], ['with, comma', '-2e-7', 'true', ''], ['quote " inside', 'NaN', 'line\nbreak', ''], [' padded ', '', '', 'only here']];
    assert.deepEqual(parseCsv(csv), fields);
    assert.equal(toCsv([], ['x', 'y']), 'x,y\n');
    assert.equal(decodeURIComponent(textDataUri('a,b\n1,"#"\n').split(',').slice(1).join(',')), 'a,b\n1,"#"\n');
    const py = parseCsvWithPython(csv);
    if (!py) this.skip();
    assert.deepEqual(py, fields);
  });

  it('prints numbers with fixed digits and a typographic minus, never a signed zero', () => {
    assert.deepEqual([signed(-0.25), signed(1.5, 3), signed(-1234.5678), signed(-0.001), signed(-0), signed(Number.NaN)], ['\u22120.25', '1.500', '\u22121234.57', '0.00', '0.00', 'NaN']);
  });

  it('escapes HTML text and attributes, and JSON inside <script>', () => {
    const tricky: JsonValue = { s: '</script><!-- \u2028 & <b>' };
    const enc = jsonForScript(tricky);
    assert.doesNotMatch(enc, /[<>&\u2028]/);
    assert.deepEqual(JSON.parse(enc), tricky);
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    // Already-escaped text is escaped again: the page shows what the input says.
    assert.equal(escapeHtml('&amp;'), '&amp;amp;');
    // No line separator or HTML-significant character survives; JSON.parse still gives the value.
    const all: JsonValue = ['\u2029', '-->', '<!--', { '<k>': '&' }];
    assert.deepEqual(JSON.parse(jsonForScript(all)), all);
    assert.doesNotMatch(jsonForScript(all), /[<>&\u2028\u2029]/);
  });

  it('orders CSV columns by first appearance, or as given', () => {
    const rows: DataRow[] = [{ b: 1 }, { a: 2, b: 3 }, { c: null }];
    assert.deepEqual(csvColumns(rows), ['b', 'a', 'c']);
    assert.equal(toCsv(rows, ['c', 'b']), 'c,b\n,1\n,3\n,\n');
  });

  it('encodes data: URIs so that any text survives (%, #, newlines, non-ASCII)', () => {
    const t = 'x,y\n"50%",#1 − α\n';
    const uri = textDataUri(t);
    assert.ok(uri.startsWith('data:text/csv;charset=utf-8,'));
    assert.doesNotMatch(uri.slice(uri.indexOf(',') + 1), /[\s#"]|%(?![0-9A-F]{2})/);
    assert.equal(decodeURIComponent(uri.slice(uri.indexOf(',') + 1)), t);
    assert.ok(textDataUri('{}', 'application/json').startsWith('data:application/json;'));
  });

  it('pretty-prints JSON that parses back', () => {
    const v: JsonValue = { a: [1, 2, 3], b: { c: [], d: {}, e: [{ f: 'x' }], g: null }, h: 'long '.repeat(40).split(' ') };
    assert.deepEqual(JSON.parse(prettyJson(v)), v);
    assert.equal(prettyJson({ a: [1, 2] }), '{\n  "a": [1, 2]\n}');
  });
});
