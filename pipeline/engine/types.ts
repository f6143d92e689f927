// The engine's public vocabulary. The engine knows nothing about neural networks:
// a project hands it stage declarations and an experiment config, and it does the rest.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A sha256 hex digest of a blob's bytes. */
export type ContentHash = string & { readonly __brand: 'ContentHash' };
/** A sha256 hex digest that keys one task's record. */
export type TaskKey = string & { readonly __brand: 'TaskKey' };

/**
 * One matrix axis: the config key (dot path) of a list whose values the stage fans out over,
 * or a literal list. `label` formats a value for the readable task id (default: String(v)).
 */
export interface AxisSpec {
  key?: string;
  values?: Json[];
  /** Prefix for the readable id, e.g. 'w' gives `w512`. */
  prefix?: string;
}

/** A matrix is the cartesian product of its axes; a list of matrices is their union. */
export type MatrixSpec = Record<string, AxisSpec | string>;

export interface NeedSpec {
  stage: string;
  /**
   * Map of my axis name -> upstream axis name that must be equal. Default: every axis name
   * the two stages share. An empty object means "all upstream tasks".
   */
  on?: Record<string, string>;
  /**
   * The upstream outputs this stage reads (default: all). Only these enter the cache key, so an
   * upstream output this stage ignores (e.g. provenance notes) never invalidates it.
   */
  outputs?: string[];
  /** A boolean config key: the need applies only when it is true (e.g. 'correlate.atEnd'). */
  when?: string;
}

export interface OutputSpec {
  /** 'json' outputs are validated against `schema` (a JSON Schema object) before they are stored. */
  kind: 'json' | 'bytes';
  schema?: JsonObject;
  /** An optional output may be left unwritten (e.g. saved parameters, only when a config asks). */
  optional?: boolean;
  /**
   * Also copy the artifact to this path (relative to the project root; `{experiment}` is replaced
   * by the experiment name) after every run that builds or reuses it, e.g. 'reports/{experiment}/index.html'.
   */
  publish?: string;
}

export type RuntimeTarget = 'local' | 'remote';

/**
 * The store's memo of slow probes of this host (a child process loading a native library, a GPU
 * adapter), so read commands (status, why, show) answer without repeating them. An answer is
 * filed under everything it depends on (`inputs`, chosen by the stage): when any of them changes
 * it is another entry, so the host is probed again. A command that writes the store (run, gc)
 * always probes afresh (`fresh`) and files the answer, so the keys of what it stores never come
 * from the memo; a read-only store files nothing.
 */
export interface ProbeMemo {
  /** true: probe afresh and `remember`; false: an answer `recall`ed for the same inputs may stand in */
  readonly fresh: boolean;
  /** The answer filed under `name` for exactly these inputs, or undefined. */
  recall(name: string, inputs: Json): Json | undefined;
  /** Files an answer (a no-op on a read-only store; a failed write only costs a probe later). */
  remember(name: string, inputs: Json, value: Json): void;
}

/** What a stage's `runtime` is given besides where its tasks run. */
export interface RuntimeContext {
  probes?: ProbeMemo;
}

export interface StageDecl {
  name: string;
  /** File URL or path of the stage's entry module (import.meta.url): its module graph is the code fingerprint. */
  module: string;
  /**
   * Data files (paths relative to the project root) the stage reads at run time that its code
   * does not name as `new URL('<literal>', import.meta.url)` (those are found automatically):
   * their content hashes enter the key.
   */
  files?: string[];
  /** Config keys (dot paths) this stage reads: only these enter its cache key. */
  params: string[];
  matrix?: MatrixSpec | MatrixSpec[];
  needs?: NeedSpec[];
  outputs: Record<string, OutputSpec>;
  /**
   * Parts of the environment that can change this stage's numbers (backend, library versions).
   * `where` (default 'local'): 'local' when tasks run on this host (probe it); 'remote' when they run elsewhere
   * (batch jobs on compute nodes): answer from what is requested (e.g. an environment variable)
   * rather than from this host, which may lack the device. A batch job compares the 'local'
   * answer on its node with the key's and fails on a difference.
   * `ctx.probes`: where slow probes may file their answers (absent: probe afresh, e.g. `doctor`).
   */
  runtime?: (where?: RuntimeTarget, ctx?: RuntimeContext) => JsonObject | Promise<JsonObject>;
  /**
   * What one task asks of a batch scheduler (a cluster executor), given the stage's resolved runtime (e.g. one
   * GPU when the model backend is a GPU). Local runs ignore it.
   */
  resources?: (runtime: JsonObject) => StageResources;
  /**
   * Estimated compute seconds of these tasks on the device their resources ask for (for a batch
   * executor's `run --dry-run` plan), and what the estimate rests on.
   */
  estimateSeconds?: (tasks: { params: JsonObject; axes: JsonObject }[]) => { seconds: number; basis: string };
  /** What `results` and `diff` read from this stage's JSON outputs. */
  metrics?: MetricsDecl;
  /**
   * Checks of the stage's params against each other, run when the graph is planned (so a config
   * mistake fails every command at once, naming its keys, before any task runs): a message, or null.
   */
  checkParams?: (params: JsonObject) => string | null;
  /** A short human description for `dag` and docs. */
  description?: string;
  /** The experiment's name enters the key (the stage writes it into its output, e.g. a report title). */
  perExperiment?: boolean;
  /** The task receives `ctx.lineage`: timing records of every task upstream of it (for provenance). */
  wantsLineage?: boolean;
  run(ctx: TaskContext): Promise<void>;
}

export interface StageResources {
  cpus?: number;
  memMB?: number;
  gpus?: number;
  /** Time limit in minutes. */
  timeMinutes?: number;
}

export type MetricValue = number | string | boolean | null;

/**
 * Measurements a stage reports under coordinates of their own beyond its task's grid axes (e.g.
 * one fit group: { fit: 'fig4-mse', alpha: 0 }): `results` gives each coordinate its own column.
 */
export interface MetricGroup {
  coords: Record<string, MetricValue>;
  metrics: Record<string, MetricValue>;
}

/**
 * One judged claim: a stable `id` (what a baseline keys on) and any columns. The `gate` columns of
 * its VerdictsDecl are what `check` compares with the committed baseline.
 */
export interface VerdictRow {
  id: string;
  [column: string]: MetricValue;
}

export interface VerdictsDecl {
  read(outputs: Record<string, Json>, task: { id: string; axes: JsonObject }): VerdictRow[];
  /** The columns `check` compares with the baseline (e.g. ['verdict']). */
  gate: readonly string[];
}

export interface MetricsDecl {
  /**
   * One task's metrics, from its JSON outputs (by output name, parsed): a flat map name -> value,
   * or groups with coordinates of their own. Numbers (and null: not finite) are measurements;
   * strings and booleans (a status) are labels of the task, shown in their own column.
   */
  read(outputs: Record<string, Json>, task: { id: string; axes: JsonObject }): Record<string, MetricValue> | MetricGroup[];
  /** `diff` compares the metrics of headline stages (e.g. fitted slopes); `results` shows every stage's. */
  headline?: boolean;
  /** The claims this stage's outputs judge: `results --table verdicts` and `check`. */
  verdicts?: VerdictsDecl;
}

/** When and where an upstream task was computed, from its record. */
export interface LineageEntry {
  id: string;
  stage: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  host: string;
  /** computed by the current run (false: reused from the cache) */
  ranThisRun: boolean;
}

/** One upstream task's outputs as a downstream task sees them. */
export interface InputTask {
  id: string;
  stage: string;
  axes: JsonObject;
  /** output name -> artifact */
  outputs: Record<string, ArtifactRef>;
}

export interface ArtifactRef {
  hash: ContentHash;
  size: number;
  /** Absolute path of the immutable blob in the store; read it, never write it. */
  path: string;
}

export interface TaskContext {
  id: string;
  stage: string;
  /**
   * Name of the experiment being run (enters the key only for `perExperiment` stages): the config's
   * name, or a variant's (`quick+1a2b3c4d`, or `--name`) when the command line overrides values.
   */
  experiment: string;
  /** The experiment config the run started from (equals `experiment` unless this is a variant). */
  baseExperiment: string;
  /** Config values overridden on the command line (dot path -> value); empty when none. */
  overrides: JsonObject;
  /** Upstream timing records, for stages with `wantsLineage` (empty otherwise). */
  lineage: LineageEntry[];
  /** This task's matrix values, by axis name. */
  axes: JsonObject;
  /** The declared params' values, by config key. */
  params: JsonObject;
  /** Upstream tasks, grouped by stage name. */
  inputs: Record<string, InputTask[]>;
  /** Read an upstream JSON artifact (hash-verified). */
  readJson<T = Json>(ref: ArtifactRef): Promise<T>;
  /** Read an upstream artifact's bytes (hash-verified). */
  readBytes(ref: ArtifactRef): Promise<Buffer>;
  /**
   * Store an output. Each declared output must be written exactly once; a JSON output is checked
   * against its declared schema before it is stored (so any value is accepted here, and checked).
   */
  writeJson(name: string, value: unknown): Promise<void>;
  writeBytes(name: string, bytes: Uint8Array): Promise<void>;
  /** Report progress: `done` of `total` units (steps, bytes), with an optional short message. */
  progress(done: number, total: number, message?: string): void;
  /** A log line shown by the scheduler and kept in the task's record. */
  log(message: string): void;
  /** A scratch directory private to this task (made when first read), removed after it ends. */
  tmpDir: string;
  /** Aborted when the run is interrupted. */
  signal: AbortSignal;
}

/** What a project hands the engine. */
export interface Project {
  /** Project-specific commands added to the CLI (e.g. a `doctor` command). */
  extendCli?: (program: import('commander').Command) => void;
  name: string;
  /** Shown by `--version`. */
  version?: string;
  /** Absolute path of the module exporting this Project as `project` (workers import it). */
  module: string;
  /** Repository root: code fingerprints are taken relative to it. */
  root: string;
  stages: StageDecl[];
  /** Folder of `<name>.json` experiment configs. */
  experimentsDir: string;
  defaultExperiment: string;
  /** JSON Schema every experiment config must satisfy. */
  experimentSchema: JsonObject;
  /** Environment variable that overrides the store location. */
  cacheEnvVar: string;
  /** Prefix of the engine's other variables (`<prefix>_EXECUTOR`); default: the name upper-cased. */
  envPrefix?: string;
  defaultCacheDir: string;
  /** Folder of committed verdict baselines, `<experiment>.json`, that `check` compares with. */
  baselinesDir?: string;
}
