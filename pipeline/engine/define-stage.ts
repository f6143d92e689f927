// A typed stage definition. One declaration gives the engine what it keys and schedules on, and
// gives the stage's code its types end to end:
//   - params, declared by config section with TypeBox schemas, are both the config keys that enter
//     the cache key and the type of `ctx.params`:
//       params: { a1: Type.Pick(A1Config, ['lr', 'steps']), correlate: { atEnd: Type.Boolean() } }
//     gives the keys ['a1.lr', 'a1.steps', 'correlate.atEnd'] and `ctx.params.a1.lr: number`; a
//     schema at the top level (`report: ReportConfig`) declares the whole section as one key;
//   - outputs carry their contract: `json: { result: jsonOutput(TrainResultSchema) }` makes
//     `ctx.write('result', value)` take a TrainResult, and lets a downstream stage read it typed;
//   - needs name the producing stage object (`need(fetchStage, { outputs: ['meta'] })`), so an
//     output that stage does not declare is a type error, and reads go through that object
//     (`ctx.readAll(fitStage, 'fits')`), checked against the producer's contract at run time.
import { KindGuard, Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { ContractViolation } from './errors.ts';
import { validatorFor } from './task-context.ts';
import type { ArtifactRef, InputTask, JsonObject, MetricGroup, MetricsDecl, MetricValue, NeedSpec, OutputSpec, StageDecl, TaskContext } from './types.ts';

/** A section's params: a TypeBox object (its properties are the keys) or a map of key -> schema. */
export type SectionParams = TObject | Record<string, TSchema>;
export type ParamDecl = Record<string, TSchema | SectionParams>;

/** A schema's static type; a plain map of schemas gives an object of their static types. */
type ValueOf<S> = S extends TSchema ? Static<S> : { [K in keyof S]: S[K] extends TSchema ? Static<S[K]> : never };
/** The typed values of a param declaration. */
export type ParamValues<P extends ParamDecl> = { [K in keyof P]: ValueOf<P[K]> };
/** The config keys (dot paths) a param declaration names: what a need's `when` may refer to. */
export type ParamKey<P extends ParamDecl> = { [K in keyof P & string]: SectionKey<K, P[K]> }[keyof P & string];
type SectionKey<K extends string, S> = S extends TObject<infer Props> ? `${K}.${keyof Props & string}` : S extends TSchema ? K : `${K}.${keyof S & string}`;

/** The plain JSON Schema of a TypeBox schema (TypeBox's symbol keys dropped), as ajv and schemas/ read it. */
export function plainSchema(schema: TSchema): JsonObject {
  return JSON.parse(JSON.stringify(schema));
}

/**
 * A type guard from a TypeBox schema, checked by the same ajv validator the engine applies to every
 * write (TypeBox's own Value.Check does not know Unsafe kinds such as string enums). The second
 * function lists the first errors of the last failed check.
 */
export function guardOf<S extends TSchema>(schema: S): { is: (v: unknown) => v is Static<S>; errors: () => string[] } {
  const validate = validatorFor(plainSchema(schema));
  return {
    is: (v: unknown): v is Static<S> => validate(v),
    errors: () => (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`),
  };
}

/** A JSON output: its contract (a TypeBox schema) and a checked parse into the contract's type. */
export interface JsonOutputDecl<T> {
  kind: 'json';
  contract: TSchema;
  optional?: boolean;
  /** Also copy the artifact to this project-relative path (`{experiment}` replaced). */
  publish?: string;
  /** The value if it satisfies the contract; else a ContractViolation naming `where`. */
  parse(value: unknown, where: string): T;
}
export interface BytesOutputDecl {
  kind: 'bytes';
  optional?: boolean;
  publish?: string;
}

/** A JSON output whose values satisfy `contract`. */
export function jsonOutput<S extends TSchema>(contract: S, opts: { optional?: boolean; publish?: string } = {}): JsonOutputDecl<Static<S>> {
  let guard: ReturnType<typeof guardOf<S>> | undefined;
  return {
    kind: 'json',
    contract,
    ...opts,
    parse(value: unknown, where: string): Static<S> {
      // Compiled once per output, on first read (not per artifact: the fit stage reads hundreds).
      guard ??= guardOf(contract);
      if (guard.is(value)) return value;
      throw new ContractViolation(`${where} does not match its contract${contract.$id ? ` ${contract.$id}` : ''}: ${guard.errors().join('; ')}`);
    },
  };
}

/** A bytes output (e.g. uint8 images, saved parameters). */
export function bytesOutput(opts: { optional?: boolean; publish?: string } = {}): BytesOutputDecl {
  return { kind: 'bytes', ...opts };
}

/** The JSON outputs of a stage, by name, as the types of their values. */
export type JsonOutputs<T> = { [K in keyof T]: JsonOutputDecl<T[K]> };

/**
 * A declared stage: the engine's StageDecl plus its outputs as types. `T` maps each JSON output to
 * its contract's type, `B` names the bytes outputs.
 */
export interface Stage<N extends string = string, T = Record<string, unknown>, B extends string = string> extends StageDecl {
  readonly name: N;
  readonly json: JsonOutputs<T>;
  readonly bytes: Record<B, BytesOutputDecl>;
}

/**
 * One dependency: the producing stage object, the outputs read (default: all), how axes match
 * (`on`, default: every shared axis; `{}`: all upstream tasks), and an optional boolean config
 * key that switches it on. `W` is the key's literal type, checked against the declaring stage's params.
 */
export interface Need<W extends string = string> {
  stage: StageDecl;
  outputs?: readonly string[];
  on?: Record<string, string>;
  when?: W;
}

/** A need of `stage`'s outputs; only outputs the stage declares are accepted. */
export function need<T, B extends string, const W extends string = never>(
  stage: Stage<string, T, B>,
  opts: { outputs?: readonly ((keyof T & string) | B)[]; on?: Record<string, string>; when?: W } = {},
): Need<W> {
  return { stage, ...opts };
}

/** What a typed stage's run() receives: the engine's context with typed params, reads and writes. */
export interface TypedContext<P, T = Record<string, unknown>, B extends string = string> extends Omit<TaskContext, 'params' | 'writeJson' | 'writeBytes'> {
  params: P;
  /** The declared params as the nested JSON object they are (e.g. to show the config). */
  paramsJson: JsonObject;
  /** Store a JSON output: the value must satisfy the output's contract (checked before storing). */
  write<K extends keyof T & string>(name: K, value: T[K]): Promise<void>;
  writeBytes(name: B, bytes: Uint8Array): Promise<void>;
  /** The one upstream task of `stage` (an error names the stage when there is none or several). */
  one(stage: StageDecl): InputTask;
  /** The one upstream task's JSON output, checked against its producer's contract. */
  read<U, K extends keyof U & string>(stage: Stage<string, U, string>, output: K): Promise<U[K]>;
  /** Every upstream task's JSON output, checked, in the engine's task order. */
  readAll<U, K extends keyof U & string>(stage: Stage<string, U, string>, output: K): Promise<U[K][]>;
  /** The one upstream task's bytes output. */
  bytesOf<BB extends string>(stage: Stage<string, unknown, BB>, output: BB): Promise<Buffer>;
}

/** What `results` and `diff` read from a stage: typed access to its JSON outputs. */
export interface TypedMetrics<T> {
  headline?: boolean;
  read(output: <K extends keyof T & string>(name: K) => T[K], task: { id: string; axes: JsonObject }): Record<string, MetricValue> | MetricGroup[];
}

export interface TypedStageDecl<N extends string, P extends ParamDecl, T, B extends string>
  extends Omit<StageDecl, 'name' | 'params' | 'run' | 'outputs' | 'needs' | 'metrics'> {
  name: N;
  params: P;
  json?: JsonOutputs<T>;
  bytes?: Record<B, BytesOutputDecl>;
  needs?: readonly Need<NoInfer<ParamKey<P>>>[];
  metrics?: TypedMetrics<T>;
  /** Plan-time checks of the params against each other (a message naming the keys, or null). */
  check?: (params: ParamValues<P>) => string | null;
  run(ctx: TypedContext<ParamValues<P>, T, B>): Promise<void>;
}

/** A section is a parameter group when it is a TypeBox object or a plain map of schemas. */
function sectionKeys(section: TSchema | SectionParams): string[] | null {
  if (KindGuard.IsObject(section)) return Object.keys(section.properties);
  if (KindGuard.IsSchema(section)) return null;
  return Object.keys(section);
}

/** The dot-path config keys a declaration names, in declaration order. */
export function paramKeys(decl: ParamDecl): string[] {
  return Object.entries(decl).flatMap(([name, section]) => sectionKeys(section)?.map((k) => `${name}.${k}`) ?? [name]);
}

/** The engine's flat `{ 'a1.lr': 1 }` values as the declaration's nested shape (untyped). */
function nestJson(decl: ParamDecl, flat: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [name, section] of Object.entries(decl)) {
    const keys = sectionKeys(section);
    out[name] = keys ? Object.fromEntries(keys.map((k) => [k, flat[`${name}.${k}`] ?? null])) : (flat[name] ?? null);
  }
  return out;
}

/** The declaration as one TypeBox object schema (each section against its schema), as a guard. */
const paramsValidators = new WeakMap<ParamDecl, ReturnType<typeof validatorFor>>();

function paramsGuard<P extends ParamDecl>(decl: P): (v: unknown) => v is ParamValues<P> {
  // One compiled validator per declaration: nestParams runs for every task and every plan-time check.
  const validate = paramsValidators.get(decl) ?? validatorFor(plainSchema(Type.Object(Object.fromEntries(Object.entries(decl).map(([name, section]) => [name, KindGuard.IsSchema(section) ? section : Type.Object(section)])))));
  paramsValidators.set(decl, validate);
  return (v: unknown): v is ParamValues<P> => validate(v);
}

/** The nested, typed params of a task; a value that fails its declared schema is a contract error. */
export function nestParams<P extends ParamDecl>(decl: P, flat: JsonObject, where = 'params'): ParamValues<P> {
  const nested: unknown = nestJson(decl, flat);
  if (paramsGuard(decl)(nested)) return nested;
  throw new ContractViolation(`${where}: the config values do not match the stage's declared params (${paramKeys(decl).join(', ')})`);
}

function outputSpecs(json: Record<string, JsonOutputDecl<unknown>>, bytes: Record<string, BytesOutputDecl>): Record<string, OutputSpec> {
  const specs: Record<string, OutputSpec> = {};
  for (const [name, d] of Object.entries(json)) {
    const schema = plainSchema(d.contract);
    specs[name] = { kind: 'json', schema, ...(d.optional ? { optional: true } : {}), ...(d.publish ? { publish: d.publish } : {}) };
  }
  for (const [name, d] of Object.entries(bytes)) {
    specs[name] = { kind: 'bytes', ...(d.optional ? { optional: true } : {}), ...(d.publish ? { publish: d.publish } : {}) };
  }
  return specs;
}

function typedContext<P, T, B extends string>(ctx: TaskContext, params: P, paramsJson: JsonObject): TypedContext<P, T, B> {
  const one = (stage: StageDecl): InputTask => {
    const tasks = ctx.inputs[stage.name] ?? [];
    if (tasks.length !== 1) throw new Error(`${ctx.id}: expected exactly one upstream '${stage.name}' task, got ${tasks.length}`);
    return tasks[0]!;
  };
  const ref = (task: InputTask, name: string): ArtifactRef => {
    const r = task.outputs[name];
    if (!r) throw new Error(`${ctx.id}: upstream task ${task.id} has no output '${name}'`);
    return r;
  };
  const parsed = async <U, K extends keyof U & string>(stage: Stage<string, U, string>, task: InputTask, output: K): Promise<U[K]> => {
    const decl = stage.json[output];
    return decl.parse(await ctx.readJson<unknown>(ref(task, output)), `${task.id} output '${output}'`);
  };
  const { writeJson, writeBytes, params: _flat, ...rest } = ctx;
  return {
    ...rest,
    params,
    paramsJson,
    write: (name, value) => writeJson(name, value),
    writeBytes: (name, bytes) => writeBytes(name, bytes),
    one,
    read: (stage, output) => parsed(stage, one(stage), output),
    readAll: (stage, output) => Promise.all((ctx.inputs[stage.name] ?? []).map((t) => parsed(stage, t, output))),
    bytesOf: (stage, output) => ctx.readBytes(ref(one(stage), output)),
  };
}

function needSpec(n: Need): NeedSpec {
  return {
    stage: n.stage.name,
    ...(n.outputs ? { outputs: [...n.outputs] } : {}),
    ...(n.on ? { on: n.on } : {}),
    ...(n.when ? { when: n.when } : {}),
  };
}

function metricsDecl<T>(json: JsonOutputs<T>, m: TypedMetrics<T>): MetricsDecl {
  return {
    ...(m.headline ? { headline: true } : {}),
    read: (outputs, task) => m.read((name) => json[name].parse(outputs[name], `${task.id} output '${name}'`), task),
  };
}

/** A stage whose params, outputs and needs are declared once, typed. */
export function defineStage<N extends string, P extends ParamDecl, T = Record<never, never>, B extends string = never>(
  decl: TypedStageDecl<N, P, T, B>,
): Stage<N, T, B> {
  const { params, run, json, bytes, needs, metrics, check, ...rest } = decl;
  // An empty declaration stands for "no outputs of that kind"; the engine sees one output map.
  const jsonOut: JsonOutputs<T> | Record<string, never> = json ?? {};
  const bytesOut: Record<B, BytesOutputDecl> | Record<string, never> = bytes ?? {};
  const keys = paramKeys(params);
  return {
    ...rest,
    json: json ?? emptyOutputs<T>(),
    bytes: bytes ?? emptyBytes<B>(),
    params: keys,
    outputs: outputSpecs(jsonOut, bytesOut),
    ...(needs ? { needs: needs.map(needSpec) } : {}),
    ...(metrics && json ? { metrics: metricsDecl(json, metrics) } : {}),
    ...(check ? { checkParams: (flat: JsonObject) => check(nestParams(params, flat)) } : {}),
    run: (ctx) => {
      const nested = nestParams(params, ctx.params, ctx.id);
      return run(typedContext<ParamValues<P>, T, B>(ctx, nested, nestJson(params, ctx.params)));
    },
  };
}

// A stage without JSON (or bytes) outputs: T (or B) is then empty, and so is the map.
function emptyOutputs<T>(): JsonOutputs<T> {
  const none: { [K in keyof T]: JsonOutputDecl<T[K]> } = Object.create(null);
  return none;
}
function emptyBytes<B extends string>(): Record<B, BytesOutputDecl> {
  const none: Record<B, BytesOutputDecl> = Object.create(null);
  return none;
}
