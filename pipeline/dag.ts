// This project's wiring: fetch -> train / correlate -> fit -> report.
// Each stage module declares its own params, matrix and needs; the order here is irrelevant.
import { fetchStage } from '../stages/fetch/index.ts';
import { trainA1Stage, trainA2Stage } from '../stages/train/index.ts';
import { correlateStage } from '../stages/correlate/index.ts';
import { fitStage } from '../stages/fit/index.ts';
import { reportStage } from '../stages/report/index.ts';
import type { StageDecl } from './engine/types.ts';

export const stages: StageDecl[] = [fetchStage, trainA1Stage, trainA2Stage, correlateStage, fitStage, reportStage];
