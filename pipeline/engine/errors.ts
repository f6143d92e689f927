// The errors the engine tells apart: one base (EngineError) whose `kind` decides the exit code
// of the command line, and their plain form for crossing a process boundary (worker IPC, a batch
// job's progress file): the kind, class name and `code` must survive, or an interruption reads
// as a failure and a user-fixable error loses the code that names its cure.

/** What went wrong, as the command line tells it apart. */
export type ErrorKind = 'usage' | 'config' | 'graph' | 'setup' | 'store' | 'contract' | 'input' | 'interrupted';

/**
 * The exit code of a command that ends with an error of this kind. Usage, config, graph and
 * setup errors are the user's to fix before anything runs: 2. Interrupted: 130, as Ctrl-C.
 */
export const EXIT_CODE: Readonly<Record<ErrorKind, number>> = {
  usage: 2,
  config: 2,
  graph: 2,
  setup: 2,
  store: 1,
  contract: 1,
  input: 1,
  interrupted: 130,
};

/** Every error the engine raises on purpose. A stage may subclass one (e.g. InputError). */
export abstract class EngineError extends Error {
  abstract readonly kind: ErrorKind;
  /** How the user can fix it. */
  readonly hint?: string;
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    if (opts.hint !== undefined) this.hint = opts.hint;
  }
}

export function isEngineError(e: unknown): e is EngineError {
  return e instanceof EngineError;
}

/** The exit code for an error that ended a command: its kind's, else 1 (a bug). */
export function exitCodeOf(e: unknown): number {
  return e instanceof EngineError ? EXIT_CODE[e.kind] : 1;
}

/** A command line the engine cannot act on (unknown task, bad --format, unreachable executor): exit 2. */
export class UsageError extends EngineError {
  readonly kind = 'usage';
  override name = 'UsageError';
}

/** An experiment config that is missing or invalid, or a bad --set: exit 2. */
export class ConfigError extends EngineError {
  readonly kind = 'config';
  override name = 'ConfigError';
}

/** Stage declarations and a config that do not make a task graph (a cycle, a missing need): exit 2. */
export class GraphError extends EngineError {
  readonly kind = 'graph';
  override name = 'GraphError';
}

/** A problem with the environment (store, backend) found before anything ran: exit 2. */
export class SetupError extends EngineError {
  readonly kind = 'setup';
  override name = 'SetupError';
}

/** A problem with the store itself (full disk, unwritable): the same for every task, so said once. */
export class StoreError extends EngineError {
  readonly kind = 'store';
  override name = 'StoreError';
}

/** The store's disk (or quota) is full: no task can keep its outputs until space is freed. */
export class StoreFullError extends StoreError {
  override name = 'StoreFullError';
}

/** A full store, here or in a worker (the class name crosses the process boundary). */
export function isStoreFull(e: unknown): e is StoreError {
  return e instanceof StoreError && e.name === 'StoreFullError';
}

/** A blob whose bytes no longer hash to its name. */
export class CorruptBlobError extends StoreError {
  override name = 'CorruptBlobError';
  constructor(
    readonly blobPath: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`blob ${blobPath} is corrupt: expected sha256 ${expected}, found ${actual}`);
  }
}

/** The run was stopped (Ctrl-C, the pool killed): not a failure of the task. */
export class InterruptedError extends EngineError {
  readonly kind = 'interrupted';
  override name = 'InterruptedError';
  constructor(message = 'interrupted') {
    super(message);
  }
}

/** A stage broke its declared contract (undeclared, duplicate or missing output; schema-invalid JSON): a bug in the stage. */
export class ContractViolation extends EngineError {
  readonly kind = 'contract';
  override name = 'ContractViolation';
}

export interface InputErrorOptions {
  /** How the user can fix it. */
  hint?: string;
  cause?: unknown;
}

/** Bad input the user can fix (a missing file, a failed download); `code` names which. */
export class InputError extends EngineError {
  readonly kind = 'input';
  override name = 'InputError';
  readonly code: string;

  constructor(code: string, message: string, opts: InputErrorOptions = {}) {
    super(message, opts);
    this.code = code;
  }
}

export function isInterrupted(e: unknown): e is InterruptedError {
  return e instanceof InterruptedError;
}

/** An error as JSON: what crosses a process boundary. */
export interface WireError {
  /** An engine error's kind; 'error' for anything else (a bug, a library's error). */
  kind: ErrorKind | 'error';
  /** The original class name (e.g. a stage's subclass of InputError). */
  name: string;
  message: string;
  code?: string;
  hint?: string;
  stack?: string;
}

export function toWire(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  const base = { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
  if (!(err instanceof EngineError)) return { kind: 'error', ...base };
  return {
    kind: err.kind,
    ...base,
    ...(err instanceof InputError ? { code: err.code } : {}),
    ...(err.hint !== undefined ? { hint: err.hint } : {}),
  };
}

/** The engine class of each kind, rebuilt from its message and hint on the far side. */
const REBUILD: Record<ErrorKind, (w: WireError, hint: { hint?: string }) => EngineError> = {
  usage: (w, h) => new UsageError(w.message, h),
  config: (w, h) => new ConfigError(w.message, h),
  graph: (w, h) => new GraphError(w.message, h),
  setup: (w, h) => new SetupError(w.message, h),
  store: (w, h) => new StoreError(w.message, h),
  contract: (w, h) => new ContractViolation(w.message, h),
  input: (w, h) => new InputError(w.code ?? 'INPUT', w.message, h),
  interrupted: (w) => new InterruptedError(w.message),
};

/** The engine class of a wire error; the original class name and stack are kept. */
export function fromWire(w: WireError): Error {
  const rebuild = w.kind === 'error' ? undefined : REBUILD[w.kind];
  const err = rebuild ? rebuild(w, w.hint === undefined ? {} : { hint: w.hint }) : new Error(w.message);
  err.name = w.name;
  if (w.stack) err.stack = w.stack;
  return err;
}

/** One line for the user: the message, then an input error's code and hint. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e instanceof InputError) return `${e.message} [${e.code}]${e.hint ? `; ${e.hint}` : ''}`;
  return e.message;
}
