// A project whose registry holds only the toy protocol: fetch -> train-toy -> fit -> report.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Project } from '../../../pipeline/engine/types.ts';
import { jsonSchema } from '../../../stages/contracts/common.ts';
import { experimentSchema, experimentSections } from '../../../stages/wiring/experiment.ts';
import { fetchStage } from '../../../stages/fetch/index.ts';
import { fitStageFor } from '../../../stages/fit/stage.ts';
import { reportStageFor } from '../../../stages/report/stage.ts';
import { toyProtocol } from './protocol.ts';

const registry = [toyProtocol];
const fitStage = fitStageFor(registry, import.meta.url);
const root = fileURLToPath(new URL('../../..', import.meta.url));

export const project: Project = {
  name: 'weakcorr',
  module: fileURLToPath(import.meta.url),
  root,
  stages: [fetchStage, ...registry.flatMap((p) => p.stages), fitStage, reportStageFor(registry, import.meta.url, { sections: experimentSections(registry), fit: fitStage })],
  experimentsDir: fileURLToPath(new URL('./experiments', import.meta.url)),
  defaultExperiment: 'toy',
  experimentSchema: jsonSchema(experimentSchema(registry)),
  cacheEnvVar: 'WEAKCORR_CACHE',
  defaultCacheDir: path.join(root, '.cache/toy-protocol'),
};
