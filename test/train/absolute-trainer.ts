// Test fixture only: the PairTrainer as it was before issue 19, storing the net's parameters as
// absolute float32 values and adding each SGD update to them (so updates below ulp(W)/2 are
// rounded away). The float64 reference test and bench/train.ts compare it with the real trainer.
import { PairTrainer, disposeParams, initParams, resolveSpec, type Trace } from '../../stages/model/mlp.ts';
import { tf } from '../../stages/model/backend.ts';
import type { TrainJob } from '../../stages/train/loop.ts';
import { mseBetween } from '../../stages/train/metrics.ts';

export class AbsoluteStorageTrainer extends PairTrainer {
  protected override updateNet(trace: Trace, cot: tf.Tensor2D): void {
    const { net } = this.netLayers();
    // The old update: net += -lr g in place (netDelta stays zero and unused).
    this.descend(net, trace, cot, net);
  }
}

/**
 * A training job run with the old absolute storage, evaluated as trainSideBySide evaluates: only
 * MSE_test(f, f_lin) on the job's final test set (no monitoring: it does not touch the arithmetic).
 */
export async function absoluteStorageMseTest(job: TrainJob): Promise<number> {
  const r = resolveSpec(job.spec);
  const p0 = initParams(job.spec, job.seed);
  const tr = new AbsoluteStorageTrainer(job.spec, p0, { lr: job.lr, lossScale: job.lossScale, batch: job.batch });
  disposeParams(p0);
  try {
    for (let s = 0; s < job.steps; s++) {
      const { x, y } = job.nextBatch();
      const [xt, yt] = [tf.tensor2d(x, [job.batch, r.dIn]), tf.tensor2d(y, [job.batch, 10])];
      await tr.stepAsync(xt, yt);
      tf.dispose([xt, yt]);
    }
    const set = job.finalTest;
    let sum = 0;
    for (let start = 0; start < set.count; start += 1000) {
      const rows = Math.min(1000, set.count - start);
      const [pn, pl] = tf.tidy(() => {
        const x = tf.tensor2d(set.x.subarray(start * r.dIn, (start + rows) * r.dIn), [rows, r.dIn]);
        return [tr.predictNet(x), tr.predictLin(x)];
      });
      sum += mseBetween((await pn.data()) as Float32Array, (await pl.data()) as Float32Array) * rows;
      tf.dispose([pn, pl]);
    }
    return sum / set.count;
  } finally {
    tr.dispose();
  }
}
