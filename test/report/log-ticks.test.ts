// Log-axis ticks: at least three, inside the data's range, labels distinct, and never so close
// that their labels overlap (the e2e layout check caught "9e-2" over "1e-1" from a 1..9 level).
import { strict as assert } from 'node:assert';
import { logAxis, logTicks } from '../../stages/page/charts/style.ts';

describe('report: log-axis ticks', () => {
  it('three or more inside [lo, hi], spaced at least a tenth of the axis apart, distinct labels', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const ranges: [number, number][] = [[0.06, 0.12], [0.85, 1.2], [0.09, 0.11], [1e-5, 3e-1], [2e-16, 7e-13], [0.4, 1.1], [0.1, 0.5], [3, 3.0001]];
    for (let i = 0; i < 500; i++) {
      const lo = 10 ** (rnd() * 30 - 20);
      ranges.push([lo, lo * 10 ** (rnd() * (rnd() < 0.5 ? 0.5 : 8) + 1e-6)]);
    }
    for (const [lo, hi] of ranges) {
      const t = logTicks(lo, hi);
      const where = `[${lo}, ${hi}]: ${t.join(', ')}`;
      assert.ok(t.length >= 3 && t.length <= 6, where);
      assert.ok(t.every((v) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)), where);
      const span = Math.log10(hi / lo);
      for (let k = 1; k < t.length; k++) assert.ok(Math.log10(t[k]! / t[k - 1]!) >= 0.1 * span, `too close: ${where}`);
      const axis = logAxis(lo, hi);
      const labels = axis.values.map((v) => v.toExponential());
      assert.equal(new Set(labels).size, labels.length, `repeated label: ${where}`);
    }
  });

  it('the ranges of the overlap the e2e layout test found now get spaced ticks', () => {
    assert.deepEqual(logTicks(0.06, 0.12).length, 3);
    assert.ok(!logTicks(0.06, 0.12).includes(0.09), 'no 9e-2 next to 1e-1');
    assert.ok(!logTicks(0.85, 1.2).includes(0.9), 'no 9e-1 next to 1e0');
  });
});
