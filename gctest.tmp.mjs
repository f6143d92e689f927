import { spawnSync } from 'node:child_process';
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
globalThis.navigator = { gpu: create([]) };
const tf = await import('@tensorflow/tfjs');
await import('@tensorflow/tfjs-backend-webgpu');
tf.env().set('WEBGPU_CPU_FORWARD', false);
await tf.setBackend('webgpu');
for (let i = 0; i < 20; i++) {
  await navigator.gpu.requestAdapter();
  globalThis.gc();
  const x = tf.randomNormal([64, 64]); const y = tf.matMul(x, x); await y.data(); tf.dispose([x, y]);
  spawnSync('/bin/true');
  await new Promise((r) => setTimeout(r, 50));
}
console.log('ok');
