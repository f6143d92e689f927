// This project's wiring: fetch -> each protocol's stages -> fit -> report. Each stage module
// declares its own params, matrix and needs; the order here is irrelevant.
import { fetchStage } from '../fetch/index.ts';
import { fitStage } from './fit.ts';
import { protocols } from './registry.ts';
import { reportStage } from './report.ts';
import type { StageDecl } from '../../pipeline/engine/types.ts';

export const stages: StageDecl[] = [fetchStage, ...protocols.flatMap((p) => p.stages), fitStage, reportStage];
