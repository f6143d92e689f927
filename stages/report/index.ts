// Stage 'report': the registry's protocols, reported (stage.ts).
import { protocols } from '../protocols/registry.ts';
import { VERDICT_RULE } from '../fit/verdict.ts';
import { reportStageFor } from './stage.ts';

export const reportStage = reportStageFor(protocols, import.meta.url, { verdictRule: VERDICT_RULE });
