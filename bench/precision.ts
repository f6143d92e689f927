// Issues 19 and 26's precision tables: MSE_test(f, f_lin) of one A.2 run, on the same theta0,
// batches and test images: the old float32 path (absolute parameter storage, a test fixture),
// the new float32 path (trainSideBySide: theta0 + stored displacement) evaluated plainly (f and
// f_lin from two forward passes) and in difference form (what trainSideBySide reports), and
// PyTorch in float64 (bench/torch/a2_reference.py --float64).
//   node --import tsx bench/precision.ts --width 1024 --alpha -1 [--seed 0] [--steps 250]
//        [--test 10000] [--backend wasm] [--skip old,new,f64]
import { fileURLToPath } from 'node:url';
import { selectBackend, type BackendKind } from '../stages/model/backend.ts';
import { loadMnist, newA2, oldA2, torchA2, type PrecisionSetting } from '../test/train/a2-precision.ts';

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (k: string, d: string): string => {
    const i = process.argv.indexOf(`--${k}`);
    return i > 0 ? process.argv[i + 1]! : d;
  };
  const s: PrecisionSetting = { width: Number(arg('width', '1024')), alpha: Number(arg('alpha', '-1')), seed: Number(arg('seed', '0')), steps: Number(arg('steps', '250')), testSize: Number(arg('test', '10000')) };
  const skip = arg('skip', '').split(',');
  const backend = arg('backend', 'wasm') as BackendKind;
  await selectBackend(backend, { log: () => {} });
  const { train, test } = await loadMnist();
  const t = (): number => performance.now();
  console.log(`A.2, width ${s.width}, alpha ${s.alpha}, seed ${s.seed}, ${s.steps} steps, ${s.testSize} test images; backend ${backend}`);
  let t0 = t();
  if (!skip.includes('old')) console.log(`old float32 (absolute storage): MSE_test ${(await oldA2(train, test, s)).toExponential(4)}  (${((t() - t0) / 1000).toFixed(0)} s)`);
  t0 = t();
  if (!skip.includes('new')) {
    const n = await newA2(train, test, s);
    console.log(`new float32, plain evaluation:  MSE_test ${n.plain.toExponential(4)}`);
    console.log(`new float32, difference form:   MSE_test ${n.mseTest.toExponential(4)}  measured floor ${n.floor.toExponential(2)}  (${((t() - t0) / 1000).toFixed(0)} s, both)`);
  }
  t0 = t();
  if (!skip.includes('f64')) console.log(`PyTorch float64:                MSE_test ${torchA2(train, test, s, true).mseTest.toExponential(4)}  (${((t() - t0) / 1000).toFixed(0)} s)`);
}
