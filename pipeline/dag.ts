// This project's wiring: fetch -> each protocol's stages -> fit -> report. Each stage module
// declares its own params, matrix and needs; the order here is irrelevant.
import { fetchStage } from '../stages/fetch/index.ts';
import { fitStage } from '../stages/fit/index.ts';
import { protocols } from '../stages/protocols/registry.ts';
import { reportStage } from '../stages/report/index.ts';
import type { StageDecl } from './engine/types.ts';

export const stages: StageDecl[] = [fetchStage, ...protocols.flatMap((p) => p.stages), fitStage, reportStage];
