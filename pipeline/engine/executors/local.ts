// The default executor: worker processes on this host; the scheduler writes the records.
import { LocalExecutor } from '../executor.ts';
import type { ExecutorKind } from './kind.ts';

export const localExecutor: ExecutorKind = {
  name: 'local',
  runtime: 'local',
  jobsHelp: 'local: worker processes',
  configure: () => ({
    create: ({ store, project, jobs }) => new LocalExecutor(jobs, project.module, store.dir),
  }),
};
