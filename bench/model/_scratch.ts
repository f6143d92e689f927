import { selectBackend, tf } from '../../stages/model/backend.ts';
import { PairTrainer, hostToParams, initHostParams, disposeParams, type MlpSpec } from '../../stages/model/mlp.ts';
await selectBackend('wasm', { log: () => {} });
const n = 1024;
const spec: MlpSpec = { dIn: 784, width: n, depth: 2, activation: 'gelu', parameterization: 'standard' };
const p0 = hostToParams(initHostParams(spec, 1));
const tr = new PairTrainer(spec, p0, { lr: 0.1 });
const x = tf.randomUniform([128, 784]) as tf.Tensor2D, y = tf.randomUniform([128, 10]) as tf.Tensor2D;
tr.step(x, y);
for (let k = 0; k < 3; k++) { const t0 = performance.now(); tr.stepNet(x, y); console.log('net', (performance.now() - t0).toFixed(1)); }
const prof = await tf.profile(() => { tr.stepNet(x, y); });
const agg: Record<string, number> = {};
for (const k of prof.kernels) { const key = k.name + ' ' + JSON.stringify(k.inputShapes); agg[key] = (agg[key] ?? 0) + (k.kernelTimeMs as number); }
console.log(Object.entries(agg).sort((a, b) => b[1] - a[1]).slice(0, 15));
