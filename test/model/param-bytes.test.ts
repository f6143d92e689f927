import assert from 'node:assert/strict';
import { initHostParams, paramCounts, type MlpSpec } from '../../stages/model/mlp.ts';
import { hostParamsFromBytes, paramsToBytes } from '../../stages/model/param-bytes.ts';

const SPEC: MlpSpec = { dIn: 12, width: 8, depth: 2, activation: 'erf', parameterization: 'ntk' };

describe('model/param-bytes: the params artifact layout', () => {
  const host = initHostParams(SPEC, 3);
  const bytes = paramsToBytes(host.flatMap((h) => [h.W, h.b]));

  it('is float32 little-endian W_0 (row-major), b_0, ..., W_L, b_L', () => {
    const P = paramCounts(SPEC).total;
    assert.equal(bytes.byteLength, 4 * P);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let k = 0;
    for (const h of host) {
      for (let p = 0; p < h.fanIn; p++) for (let q = 0; q < h.fanOut; q++) assert.equal(view.getFloat32(4 * k++, true), h.W[p * h.fanOut + q]);
      for (let q = 0; q < h.fanOut; q++) assert.equal(view.getFloat32(4 * k++, true), h.b[q]);
    }
    assert.equal(k, P);
  });

  it('reads back what it wrote, also from a buffer at an odd offset (the store need not align)', () => {
    const odd = new Uint8Array(bytes.length + 1).subarray(1);
    odd.set(bytes);
    assert.deepEqual(hostParamsFromBytes(SPEC, odd), host);
  });

  it('refuses bytes of another size, naming the artifact and the net', () => {
    assert.throws(() => hostParamsFromBytes(SPEC, bytes.subarray(4), 'p'), /p: \d+ bytes, but a 12-8-8-10 net has \d+ float32 parameters/);
  });
});
