// The experiment config's schema, composed from what owns each section: the protocols in the
// registry (their config sections), the fetch, fit and report stages. schemas/experiment.schema.json
// is generated from it (tools/schemas.ts).
import { Type, type TObject } from '@sinclair/typebox';
import { FitConfig } from '../fit/config.ts';
import type { Protocol } from '../protocols/protocol.ts';
import { DatasetName } from '../protocols/config-types.ts';
import { ReportConfig } from '../report/config.ts';
import { artifactOptions } from '../contracts/common.ts';

/** The config's top-level sections and the schema of each: the report shows (and keys on) all of them. */
export function experimentSections(protocols: Protocol[]) {
  const sections = Object.fromEntries(protocols.flatMap((p) => Object.entries(p.config)));
  return {
    description: Type.String({ default: '' }),
    datasets: Type.Array(DatasetName, {
      uniqueItems: true, minItems: 1,
      description: 'Datasets the fetch stage provides (every dataset a protocol uses must be listed).',
    }),
    ...sections,
    fit: FitConfig,
    report: ReportConfig,
  };
}

export function experimentSchema(protocols: Protocol[]): TObject {
  return Type.Object(experimentSections(protocols), artifactOptions('experiment.schema.json', 'weakcorr experiment',
    `One experiment: which datasets, which protocol grids (${protocols.map((p) => p.title).join('; ')}), and how to fit and report. Unknown keys are errors.`));
}
