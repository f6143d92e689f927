// One measured CLI command, in this process, of the engine at TREE (a checkout of this
// repository): the engine's modules and the project are imported first, so what is timed is the
// command's own cost, not Node's start or compiling TypeScript.
//   node --import tsx bench/engine-probe.ts TREE PROJECT_MODULE OUT_JSON -- <cli args...>
// ENGINE_PROBE_PROFILE=<file.cpuprofile>: a CPU profile of the command alone (Chrome DevTools format).
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import type { Project } from '../pipeline/engine/types.ts';

const [tree, projectModule, outFile, sep, ...args] = process.argv.slice(2);
if (!tree || !projectModule || !outFile || sep !== '--') throw new Error('usage: engine-probe.ts TREE PROJECT_MODULE OUT_JSON -- ARGS...');
const { runCli } = (await import(pathToFileURL(`${tree}/pipeline/engine/cli/index.ts`).href)) as { runCli(p: Project, a: string[]): Promise<number> };
// Modules the commands load on first use, imported here so their compile time is not counted.
for (const m of ['scheduler.ts', 'inspect.ts', 'planner.ts', 'store.ts', 'reporter.ts', 'worker.ts'])
  if (fs.existsSync(`${tree}/pipeline/engine/${m}`)) await import(pathToFileURL(`${tree}/pipeline/engine/${m}`).href);
const { project } = (await import(pathToFileURL(projectModule).href)) as { project: Project };
const profileTo = process.env.ENGINE_PROBE_PROFILE;
const session = profileTo ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const rssBefore = process.resourceUsage().maxRSS;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const code = await runCli(project, args);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
if (session) fs.writeFileSync(profileTo!, JSON.stringify((await session.post('Profiler.stop')).profile));
fs.writeFileSync(outFile, JSON.stringify({ code, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, sysMs: cpu.system / 1000, peakRssMB: process.resourceUsage().maxRSS / 1024, startRssMB: rssBefore / 1024 }));
process.exitCode = code;
