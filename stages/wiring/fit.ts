// Stage 'fit': the registry's protocols, fitted (stage.ts).
import { protocols } from './registry.ts';
import { fitStageFor } from '../fit/stage.ts';

export const fitStage = fitStageFor(protocols, import.meta.url);
