// Writes schemas/*.schema.json from the artifact contracts (stages/contracts/), the single source
// of every schema; `--check` exits 1 when a file differs from what the contracts say.
// Usage: node --import tsx tools/schemas.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { jsonSchema } from '../stages/contracts/common.ts';
import { CorrelationResultSchema } from '../stages/contracts/correlation-result.ts';
import { DatasetMetaSchema } from '../stages/contracts/dataset-meta.ts';
import { experimentSchema } from '../stages/wiring/experiment.ts';
import { FitsSchema } from '../stages/contracts/fits.ts';
import { TrainResultSchema } from '../stages/contracts/train-result.ts';
import { protocols } from '../stages/wiring/registry.ts';

const dir = fileURLToPath(new URL('../schemas/', import.meta.url));

/** File name -> the JSON text it must hold. */
export function generatedSchemas(): Record<string, string> {
  const all: Record<string, TSchema> = {
    'experiment.schema.json': experimentSchema(protocols),
    'train-result.schema.json': TrainResultSchema,
    'correlation-result.schema.json': CorrelationResultSchema,
    'fits.schema.json': FitsSchema,
    'dataset.schema.json': DatasetMetaSchema,
  };
  return Object.fromEntries(Object.entries(all).map(([file, s]) => [file, `${JSON.stringify(jsonSchema(s), null, 2)}\n`]));
}

function main(check: boolean): number {
  let stale = 0;
  for (const [file, text] of Object.entries(generatedSchemas())) {
    const target = path.join(dir, file);
    let current = '';
    try { current = readFileSync(target, 'utf8'); } catch { /* missing: written below */ }
    if (current === text) continue;
    if (check) {
      process.stderr.write(`schemas/${file} differs from stages/contracts/: run \`make schemas\`\n`);
      stale++;
    } else {
      writeFileSync(target, text);
      process.stdout.write(`wrote schemas/${file}\n`);
    }
  }
  return stale ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) process.exitCode = main(process.argv.includes('--check'));
