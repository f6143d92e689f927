// Stage 'report': the registry's protocols, reported (stage.ts).
import { protocols } from './registry.ts';
import { VERDICT_RULE } from '../stats/verdict.ts';
import { reportStageFor } from '../report/stage.ts';
import { experimentSections } from './experiment.ts';
import { fitStage } from './fit.ts';

export const reportStage = reportStageFor(protocols, import.meta.url, { sections: experimentSections(protocols), fit: fitStage, verdictRule: VERDICT_RULE });
