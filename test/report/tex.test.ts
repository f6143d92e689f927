import assert from 'node:assert/strict';
import { texSpec, texToText } from '../../stages/page/tex.ts';

describe('report/tex', () => {
  it('turns TeX-like names into Unicode text', () => {
    assert.equal(texToText('C^{0,2}'), 'C⁰²');
    assert.equal(texToText('Second-order correlation C^{0,3} at init'), 'Second-order correlation C⁰³ at init');
    assert.equal(texToText('n^{-1/2}'), 'n⁻¹ᐟ²');
    assert.equal(texToText('n^2 and n^-1 and n^10'), 'n² and n⁻¹ and n¹⁰');
    assert.equal(texToText('C^{0,d} ~ n^{-d/4}'), 'C⁰ᵈ ~ n⁻ᵈᐟ⁴');
    assert.equal(texToText('slope \\le 2\\alpha + 1'), 'slope ≤ 2α + 1');
    assert.equal(texToText('x_{12}'), 'x₁₂');
  });
  it('leaves plain text and unconvertible markup as written', () => {
    for (const s of ['MSE_test(f, f_lin)', 'α = -0.5', 'width n (log scale)', '', 'fit_lin', 'x^{Q}', '\\unknown'])
      assert.equal(texToText(s), s);
  });
  it('converts a spec’s visible strings, not its field names or expressions', () => {
    const spec = {
      title: 'C^{0,2}',
      data: { values: [{ _series: 'C^{0,3}', 'C^{0,2}': 1 }] },
      encoding: { y: { field: 'C^{0,2}', title: 'C^{0,2} (log)' } },
      transform: [{ filter: "datum.a === 'C^{0,2}'" }],
    };
    assert.deepEqual(texSpec(spec), {
      title: 'C⁰²',
      data: { values: [{ _series: 'C⁰³', 'C^{0,2}': 1 }] },
      encoding: { y: { field: 'C^{0,2}', title: 'C⁰² (log)' } },
      transform: [{ filter: "datum.a === 'C^{0,2}'" }],
    });
  });
});
