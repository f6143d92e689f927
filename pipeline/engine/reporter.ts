// Progress display: a live status block on a TTY, plain log lines otherwise (CI logs, pipes).
import { createLogUpdate } from 'log-update';

export type EndState = 'executed' | 'cached' | 'failed' | 'skipped' | 'interrupted';

const INTERRUPT_NOTE = 'interrupted: stopping workers; finished tasks are kept (Ctrl-C again to quit at once)';

export interface Reporter {
  /** `ids`: every task of the run (their stage, before '@', groups the ETA's duration estimates). */
  start(ids: string[], jobs: number): void;
  taskStarted(id: string): void;
  taskProgress(id: string, done: number, total: number, message?: string): void;
  taskLog(id: string, message: string): void;
  taskEnded(id: string, state: EndState, detail?: string, durationMs?: number): void;
  /** A task counted cached runs again after all (a task about to run found its output gone or corrupt). */
  taskReopened?(id: string): void;
  warn(message: string): void;
  /** Ctrl-C: running tasks are being stopped (each then ends 'interrupted'). */
  interrupted(): void;
  stop(): void;
}

function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const stageOf = (id: string): string => {
  const at = id.indexOf('@');
  return at < 0 ? id : id.slice(0, at);
};

/**
 * Shared counting and ETA: each unfinished task is expected to take its stage's mean executed
 * duration so far, spread over the jobs.
 */
class Tally {
  total = 0;
  jobs = 1;
  private readonly pending = new Map<string, number>();
  private readonly stageMs = new Map<string, { ms: number; n: number }>();

  init(ids: string[], jobs: number): void {
    this.total = ids.length;
    this.jobs = jobs;
    for (const id of ids) this.pending.set(stageOf(id), (this.pending.get(stageOf(id)) ?? 0) + 1);
  }

  executed = 0;
  cached = 0;
  failed = 0;
  skipped = 0;
  /** Tasks that were running when the run was interrupted and were stopped. */
  interrupted = 0;
  stopping = false;
  execMs = 0;
  readonly running = new Map<string, { started: number; done: number; total: number; message?: string }>();
  readonly began = Date.now();

  finished(): number {
    return this.executed + this.cached + this.failed + this.skipped;
  }

  /**
   * From measured task times only: each stage's mean executed duration so far. A stage with no
   * task done yet is counted at the fastest measured stage's mean and the ETA is a lower bound
   * ('>=40s'): a few slow fetch tasks must not project a three-minute run for a one-minute one.
   */
  eta(): string {
    if (this.executed === 0) return '?';
    const means = [...this.stageMs.values()].map((s) => s.ms / s.n);
    const fastest = Math.min(...means);
    let unmeasured = false;
    const mean = (stage: string): number => {
      const s = this.stageMs.get(stage);
      if (s) return s.ms / s.n;
      unmeasured = true;
      return fastest;
    };
    let ms = 0;
    let left = 0;
    for (const [stage, n] of this.pending) {
      if (n === 0) continue;
      ms += n * mean(stage);
      left += n;
    }
    for (const [id, r] of this.running) if (r.total > 0) ms -= (mean(stageOf(id)) * r.done) / r.total;
    return `${unmeasured ? '>=' : ''}${fmtDuration(Math.max(0, ms) / Math.max(1, Math.min(this.jobs, left)))}`;
  }

  headline(): string {
    if (this.stopping) {
      const notStarted = this.total - this.finished() - this.interrupted - this.running.size;
      const running = this.running.size ? `, stopping ${this.running.size}` : '';
      return `interrupted: ${this.finished()} finished, ${this.interrupted} stopped${running}${notStarted > 0 ? `, ${notStarted} not started` : ''} | elapsed ${fmtDuration(Date.now() - this.began)}`;
    }
    return `[${this.finished()}/${this.total}] executed ${this.executed}, cached ${this.cached}, failed ${this.failed}, skipped ${this.skipped}, running ${this.running.size} | elapsed ${fmtDuration(Date.now() - this.began)}, ETA ${this.eta()}`;
  }

  reopened(id: string): void {
    this.cached--;
    const stage = stageOf(id);
    this.pending.set(stage, (this.pending.get(stage) ?? 0) + 1);
  }

  ended(id: string, state: EndState, durationMs?: number): void {
    const wasRunning = this.running.delete(id);
    // A task stopped before it started (waiting for a lock) counts as not started.
    if (state === 'interrupted' && !wasRunning) return;
    this[state]++;
    const stage = stageOf(id);
    this.pending.set(stage, Math.max(0, (this.pending.get(stage) ?? 0) - 1));
    if (state === 'executed' && durationMs !== undefined) {
      this.execMs += durationMs;
      const s = this.stageMs.get(stage) ?? { ms: 0, n: 0 };
      this.stageMs.set(stage, { ms: s.ms + durationMs, n: s.n + 1 });
    }
  }
}

/** What both reporters share: the tally, and one line per ended task, warning and interrupt. */
abstract class CountingReporter implements Reporter {
  protected readonly t = new Tally();
  protected abstract emit(s: string): void;
  /** Appended to a task's end line. */
  protected endSuffix(): string {
    return '';
  }
  start(ids: string[], jobs: number): void {
    this.t.init(ids, jobs);
  }
  taskStarted(id: string): void {
    this.t.running.set(id, { started: Date.now(), done: 0, total: 0 });
  }
  taskProgress(id: string, done: number, total: number, message?: string): void {
    const r = this.t.running.get(id);
    if (r) Object.assign(r, { done, total, message });
  }
  /**
   * `run -v`: every log line of a task as it comes. Otherwise a task's lines wait for its end,
   * where only its last (its summary) is shown, or every one when it failed. A notice, a line
   * tagged `[name] ` (the backend and device a worker runs on; an executor's submitted or adopted
   * job), is shown as it comes.
   */
  verbose = false;
  private readonly held = new Map<string, string[]>();
  protected abstract logLine(id: string, message: string): void;
  taskLog(id: string, message: string): void {
    if (this.verbose || NOTICE.test(message)) return this.logLine(id, message);
    const lines = this.held.get(id) ?? [];
    lines.push(message);
    this.held.set(id, lines);
  }
  taskEnded(id: string, state: EndState, detail?: string, durationMs?: number): void {
    const held = this.held.get(id) ?? [];
    this.held.delete(id);
    for (const line of state === 'failed' ? held : held.slice(-1)) this.logLine(id, line);
    this.t.ended(id, state, durationMs);
    if (state === 'cached') return; // thousands of these would drown the log; counted in the summary
    const took = durationMs !== undefined ? ` (${fmtDuration(durationMs)})` : '';
    this.emit(`${`${state} `.padEnd(9)}${id}${took}${detail ? `: ${detail}` : ''}${this.endSuffix()}`);
  }
  taskReopened(id: string): void {
    this.t.reopened(id);
  }
  warn(message: string): void {
    this.emit(`warning: ${message}`);
  }
  interrupted(): void {
    this.t.stopping = true;
    this.emit(INTERRUPT_NOTE);
  }
  abstract stop(): void;
}

/** A task's notice: `[name] ...` (not collapsed into its summary). */
const NOTICE = /^\[[\w.-]+\] /;

export class PlainReporter extends CountingReporter {
  private lastProgress = new Map<string, number>();
  constructor(
    /** The command's name, heading the first line. */
    private readonly name: string,
    private readonly out: Pick<NodeJS.WritableStream, 'write'> = process.stderr,
    private readonly progressEveryMs = 10_000,
  ) {
    super();
  }
  protected emit(s: string): void {
    this.out.write(`${s}\n`);
  }
  protected override endSuffix(): string {
    return ` [${this.t.finished()}/${this.t.total}]`;
  }
  override start(ids: string[], jobs: number): void {
    super.start(ids, jobs);
    this.emit(`${this.name}: ${ids.length} task(s), ${jobs >= Number.MAX_SAFE_INTEGER ? "no limit on" : jobs} job(s)`);
  }
  override taskStarted(id: string): void {
    super.taskStarted(id);
    this.lastProgress.set(id, Date.now());
    this.emit(`start    ${id}`);
  }
  override taskProgress(id: string, done: number, total: number, message?: string): void {
    super.taskProgress(id, done, total, message);
    const now = Date.now();
    if (now - (this.lastProgress.get(id) ?? 0) < this.progressEveryMs) return;
    this.lastProgress.set(id, now);
    const pct = total > 0 ? ` ${((100 * done) / total).toFixed(0)}%` : '';
    this.emit(`        ${id}: ${done}/${total}${pct}${message ? ` ${message}` : ''} | ${this.t.headline()}`);
  }
  protected logLine(id: string, message: string): void {
    this.emit(`        ${id}: ${message}`);
  }
  override taskEnded(id: string, state: EndState, detail?: string, durationMs?: number): void {
    this.lastProgress.delete(id);
    super.taskEnded(id, state, detail, durationMs);
  }
  stop(): void {
    if (this.t.stopping) this.emit(this.t.headline());
    if (this.out instanceof HeldWriter) this.out.close();
  }
}

export class TtyReporter extends CountingReporter {
  private timer?: NodeJS.Timeout;
  private readonly render: ReturnType<typeof createLogUpdate>;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    super();
    this.render = createLogUpdate(out);
  }

  /** A second Ctrl-C exits at once: the lines not yet written go out first. */
  private readonly onExit = (): void => {
    if (this.above.length) this.out.write(`${this.above.join('\n')}\n`);
  };

  override start(ids: string[], jobs: number): void {
    super.start(ids, jobs);
    this.timer = setInterval(() => this.draw(), 200);
    this.timer.unref();
    process.on('exit', this.onExit);
  }
  /** Lines to keep above the live block, written at the next redraw. */
  private above: string[] = [];
  private drawSoon: NodeJS.Immediate | undefined;

  private draw(): void {
    if (this.drawSoon) clearImmediate(this.drawSoon);
    this.drawSoon = undefined;
    if (this.above.length) {
      this.render.clear();
      this.out.write(`${this.above.join('\n')}\n`);
      this.above = [];
    }
    const lines = [this.t.headline()];
    for (const [id, r] of this.t.running) {
      const frac = r.total > 0 ? r.done / r.total : 0;
      const bar = '#'.repeat(Math.round(frac * 20)).padEnd(20, '.');
      lines.push(`  ${bar} ${id} ${r.total > 0 ? `${r.done}/${r.total}` : ''} ${fmtDuration(Date.now() - r.started)}${r.message ? ` ${r.message}` : ''}`);
    }
    this.render(lines.join('\n'));
  }
  /**
   * A line kept above the live block: collected, and written with one redraw once the lines of
   * this turn of the event loop are in (not a clear and a redraw per line: hundreds of tasks
   * may end in one turn).
   */
  protected emit(s: string): void {
    this.above.push(s);
    this.drawSoon ??= setImmediate(() => this.draw());
  }
  protected logLine(id: string, message: string): void {
    this.emit(`  ${id}: ${message}`);
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    process.off('exit', this.onExit);
    this.draw();
    this.render.done();
  }
}

/**
 * A stream's writes, held for at most HOLD_MS and written together: a cold run of small tasks
 * writes a few times a second, not two or three times per task (each write to a pipe wakes its
 * reader). What is held goes out before the process exits, and when the reporter stops.
 */
class HeldWriter {
  private held: string[] = [];
  private soon: NodeJS.Timeout | undefined;
  private readonly onExit = (): void => this.flush();

  constructor(private readonly out: NodeJS.WritableStream) {
    process.on('exit', this.onExit);
  }

  write(s: string): boolean {
    this.held.push(s);
    if (!this.soon) {
      this.soon = setTimeout(() => this.flush(), HOLD_MS);
      this.soon.unref(); // the exit handler writes what is left
    }
    return true;
  }

  flush(): void {
    if (this.soon) clearTimeout(this.soon);
    this.soon = undefined;
    if (this.held.length) this.out.write(this.held.join(''));
    this.held = [];
  }

  close(): void {
    this.flush();
    process.off('exit', this.onExit);
  }
}

/** How long a plain reporter's lines may wait to be written with the next ones. */
const HOLD_MS = 100;

export function makeReporter(name: string, verbose = false): Reporter {
  const r = process.stderr.isTTY && !process.env.CI ? new TtyReporter() : new PlainReporter(name, new HeldWriter(process.stderr));
  r.verbose = verbose;
  return r;
}
