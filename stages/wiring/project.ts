// weakcorr as an engine Project: its stages, experiments and store location.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stages } from './dag.ts';
import { jsonSchema } from '../contracts/common.ts';
import { experimentSchema } from './experiment.ts';
import { protocols } from './registry.ts';
import type { Project } from '../../pipeline/engine/types.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const project: Project = {
  name: 'weakcorr',
  module: fileURLToPath(import.meta.url),
  root,
  stages,
  experimentsDir: path.join(root, 'pipeline/experiments'),
  defaultExperiment: 'quick',
  experimentSchema: jsonSchema(experimentSchema(protocols)),
  cacheEnvVar: 'WEAKCORR_CACHE',
  envPrefix: 'WEAKCORR',
  defaultCacheDir: '.cache/weakcorr',
  baselinesDir: path.join(root, 'pipeline/verdicts'),
  extendCli: (program) => {
    program
      .command('doctor')
      .description('which tfjs backends work here, on which device, what is missing and how to fix it (always exits 0)')
      .option('--json', 'machine-readable output on stdout')
      .action(async (o: { json?: boolean }) => {
        const { doctor, formatDoctor } = await import('../model/backends/doctor.ts');
        const r = doctor();
        process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatDoctor(r)}\n`);
      });
  },
};
