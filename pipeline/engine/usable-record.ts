// A record whose outputs all exist and verify: what `run` takes as cached. A batch job checks
// this before skipping its task, and the SLURM executor before accepting a job's result.
import type { Store, TaskRecord } from './store.ts';

export async function usableRecord(store: Store, key: string): Promise<TaskRecord | undefined> {
  const record = await store.records.read(key);
  if (!record) return undefined;
  for (const out of Object.values(record.outputs)) if ((await store.blobs.verify(out.hash)) !== 'ok') return undefined;
  return record;
}
