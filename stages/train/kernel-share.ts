// The regime a run starts in: how much of the kernel at theta0 grows with width (docs/science.md).
import { tf } from '../model/backend.ts';
import { disposeParams, initParams } from '../model/mlp.ts';
import { kernelLayerTraces, widthProportionalShare } from '../model/kernel-share.ts';
import type { TrainJob } from './loop.ts';

/** Test samples the share is measured on: the trace is a mean over samples, and 64 pin it to ~1%. */
const SHARE_SAMPLES = 64;

/** The width-proportional share of the empirical NTK's trace at the job's theta0, on its first final test samples. */
export async function kernelShareAtInit(job: Pick<TrainJob, 'spec' | 'seed' | 'finalTest'>): Promise<number> {
  const n = Math.min(SHARE_SAMPLES, job.finalTest.count);
  const dIn = job.spec.dIn;
  const theta0 = initParams(job.spec, job.seed);
  const x = tf.tensor2d(job.finalTest.x.subarray(0, n * dIn), [n, dIn]);
  try {
    return widthProportionalShare(await kernelLayerTraces(job.spec, theta0, x));
  } finally {
    x.dispose();
    disposeParams(theta0);
  }
}
