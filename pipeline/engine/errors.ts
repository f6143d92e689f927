// The errors the engine tells apart, and their plain form for crossing a process boundary
// (worker IPC, a SLURM job's progress file): the class and `code` must survive, or an
// interruption reads as a failure and a user-fixable error loses the code that names its cure.

/** The run was stopped (Ctrl-C, the pool killed): not a failure of the task. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  constructor(message = 'interrupted') {
    super(message);
  }
}

/** A stage broke its declared contract (undeclared, duplicate or missing output; schema-invalid JSON): a bug in the stage. */
export class ContractViolation extends Error {
  override name = 'ContractViolation';
}

export interface InputErrorOptions {
  /** How the user can fix it. */
  hint?: string;
  cause?: unknown;
}

/** Bad input the user can fix (a missing file, a failed download); `code` names which. */
export class InputError extends Error {
  override name = 'InputError';
  readonly code: string;
  readonly hint?: string;

  constructor(code: string, message: string, opts: InputErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    if (opts.hint !== undefined) this.hint = opts.hint;
  }
}

export function isInterrupted(e: unknown): e is InterruptedError {
  return e instanceof InterruptedError;
}

/** An error as JSON: what crosses a process boundary. */
export interface WireError {
  kind: 'interrupted' | 'contract' | 'input' | 'error';
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
  if (err instanceof InterruptedError) return { kind: 'interrupted', ...base };
  if (err instanceof ContractViolation) return { kind: 'contract', ...base };
  if (err instanceof InputError) return { kind: 'input', ...base, code: err.code, ...(err.hint !== undefined ? { hint: err.hint } : {}) };
  return { kind: 'error', ...base };
}

/** The engine class of a wire error; the original class name and stack are kept. */
export function fromWire(w: WireError): Error {
  const err =
    w.kind === 'interrupted' ? new InterruptedError(w.message)
    : w.kind === 'contract' ? new ContractViolation(w.message)
    : w.kind === 'input' ? new InputError(w.code ?? 'INPUT', w.message, w.hint === undefined ? {} : { hint: w.hint })
    : new Error(w.message);
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
