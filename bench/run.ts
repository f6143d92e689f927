// `make bench`: timed goals live here, not in the tests. `node --import tsx bench/run.ts [engine|train|correlate]...`
import { benchEngine } from './engine.ts';
import { benchTrain } from './train.ts';

const only = process.argv.slice(2);
const want = (name: string): boolean => only.length === 0 || only.includes(name);

if (want('engine')) {
  console.log('\n## engine overhead (goal: no-op run and status under 2 s each with 10,000 cached tasks)');
  const r = await benchEngine();
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(42)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v}`);
}

if (want('train')) {
  console.log('\n## training step, net + linearization (goal: within 1.5x of PyTorch CPU at the same thread count)');
  for (const line of await benchTrain()) console.log(line);
}
