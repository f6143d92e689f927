// `make bench`: timed goals live here, not in the tests.
import { benchEngine } from './engine.ts';

const only = process.argv.slice(2);
const want = (name: string): boolean => only.length === 0 || only.includes(name);

if (want('engine')) {
  console.log('## engine overhead (goal: no-op run and status under 2 s each with 10,000 cached tasks)');
  const r = await benchEngine();
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(42)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v}`);
}
