// Stage 'fit': the registry's protocols, fitted (stage.ts).
import { protocols } from '../protocols/registry.ts';
import { fitStageFor } from './stage.ts';

export const fitStage = fitStageFor(protocols, import.meta.url);
