// The training job of "Theorem 3.2 in scope": A.2's job (same data, batches, test set, loss, steps
// and eta = lr0 * n^exponent) with the net in the NTK parameterization. Reused, not copied: only
// the parameterization differs. No tfjs: the stage declaration imports this.
import type { Static } from '@sinclair/typebox';
import type { Split } from '../../train/data.ts';
import type { TrainJob } from '../../train/loop.ts';
import type { JobHooks } from '../../train/stage.ts';
import { a2Job } from '../a2/job.ts';
import type { A2NtkConfig } from './config.ts';

export type A2NtkRunParams = Omit<Static<typeof A2NtkConfig>, 'widths' | 'seeds' | 'betas'>;

export interface A2NtkPoint {
  width: number;
  seed: number;
  /** eta = lr0 * n^beta */
  beta: number;
}

/**
 * A.2's job at eta = lr0 n^beta, with theta0 drawn and scaled as the NTK parameterization
 * (z = (sigma_w / sqrt(fan_in)) W a + sigma_b b, W, b ~ N(0, 1); sigma_w = 1, sigma_b = 0.05).
 */
export function a2NtkJob(train: Split, test: Split, p: A2NtkRunParams, pt: A2NtkPoint, hooks: JobHooks): TrainJob {
  if (p.testSize > test.count)
    throw new Error(`a2ntk.testSize is ${p.testSize}, but the MNIST test split has only ${test.count} images`);
  // A.2's learning-rate exponent is this protocol's beta: a2Job sets eta = lr0 * n^beta.
  const job = a2Job(train, test, p, { width: pt.width, seed: pt.seed, alpha: pt.beta }, hooks);
  return { ...job, spec: { ...job.spec, parameterization: 'ntk' } };
}
