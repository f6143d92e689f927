// The engine's command line, for any Project: one module per command (run, status, why, show,
// trace, dag, experiments, results, check, diff, gc, version). Every command takes --json; an error's kind
// decides the exit code (usage, config, graph and setup errors exit 2 with one line).
import { Command } from 'commander';
import { EngineError, EXIT_CODE, exitCodeOf, describeError } from '../errors.ts';
import { takeStoreNotes } from '../store-check.ts';
import type { Project } from '../types.ts';
import { projectVersion, print } from './common.ts';
import { checkCommand } from './check.ts';
import { dagCommand } from './dag.ts';
import { diffCommand } from './diff.ts';
import { experimentsCommand } from './experiments.ts';
import { gcCommand } from './gc.ts';
import { resultsCommand } from './results.ts';
import { runCommand } from './run.ts';
import { showCommand } from './show.ts';
import { statusCommand } from './status.ts';
import { traceCommand } from './trace.ts';
import { whyCommand } from './why.ts';

export function buildCli(project: Project): Command {
  const program = new Command(project.name)
    .description(`${project.name}: a content-hashed, cached pipeline of stages`)
    .exitOverride()
    // Usage errors are one line (no help dump) and exit 2, like every other usage error.
    .configureOutput({ outputError: (str, write) => write(`${project.name}: ${str.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (see --help)\n`) });
  const first = project.stages.at(-1)?.name ?? 'STAGE';
  const examples: [string, string][] = [
    ['run', 'build everything; the published report path is printed last'],
    ['run --dry-run -v', 'what would run, and why'],
    [`status ${first} -v`, 'counts per stage, then each task that is not cached and why'],
    ['run --set <section.key>=<value>', 'a variant, published beside the canonical output'],
    ['results --format csv', 'every metric as one tidy table (a column per grid axis)'],
    ['results --table verdicts', 'one row per claim: verdict, slope, interval, bound, reason'],
    ['check -e <experiment>', 'exit 1 when a claim\'s verdict differs from the committed baseline'],
    ['trace --format csv', "each task's wall time, CPU seconds, peak RSS, host and log"],
    [`diff ${project.defaultExperiment} ${project.defaultExperiment} --set <section.key>=<value>`, 'what an override changes'],
    [`gc --keep ${project.defaultExperiment} --dry-run`, 'what a clean-up would remove'],
  ];
  const w = Math.max(...examples.map(([c]) => c.length));
  program.addHelpText('after', `\nExamples:\n${examples.map(([c, d]) => `  $ ${project.name} ${c.padEnd(w)}  ${d}`).join('\n')}`);
  const version = projectVersion(project);
  program.version(`${project.name} ${version}`, '-V, --version', 'print the version');

  program
    .command('version')
    .description('the version of the project and of Node.js')
    .option('--json', 'machine-readable output on stdout')
    .action((o: { json?: boolean }) => {
      const v = { name: project.name, version, node: process.version };
      print(o.json, v, () => `${v.name} ${v.version} (node ${v.node})`);
    });

  for (const command of [runCommand, statusCommand, whyCommand, showCommand, traceCommand, dagCommand, experimentsCommand, resultsCommand, checkCommand, diffCommand, gcCommand]) command(program, project);

  project.extendCli?.(program);
  return program;
}

/** Notes about the store the command read (it does not exist), after its answer or its error. */
function printStoreNotes(): void {
  for (const note of takeStoreNotes()) process.stderr.write(`${note}\n`);
}

/** Runs the CLI; returns the process exit code, chosen by the kind of the error that ended it. */
export async function runCli(project: Project, argv: string[]): Promise<number> {
  const program = buildCli(project);
  try {
    await program.parseAsync(argv, { from: 'user' });
    printStoreNotes();
    return Number(process.exitCode ?? 0);
  } catch (e) {
    const err = e as Error & { code?: string; exitCode?: number };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    if (err.code?.startsWith('commander.')) return EXIT_CODE.usage;
    // A command that failed after reading a store that does not exist (`check`: "not built")
    // says so too: the likely cause is a mistyped store path, not an unbuilt experiment.
    if (e instanceof EngineError) {
      process.stderr.write(`${project.name}: ${describeError(e)}\n`);
      printStoreNotes();
      return exitCodeOf(e);
    }
    process.stderr.write(`${project.name}: internal error: ${err.stack ?? err.message}\n`);
    printStoreNotes();
    return 1;
  }
}
