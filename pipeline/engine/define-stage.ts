// A typed stage definition: one parameter declaration gives both the config keys that enter the
// cache key and the type of `ctx.params`, so a key cannot be read without being declared.
//
// Params are declared by config section, with TypeBox schemas of their values:
//   params: { a1: Type.Pick(A1Config, ['lr', 'steps']), correlate: { atEnd: Type.Boolean() } }
// gives the keys ['a1.lr', 'a1.steps', 'correlate.atEnd'] and `ctx.params.a1.lr: number`.
// A schema at the top level (`report: ReportConfig`) declares the whole section as one key.
import { KindGuard, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import type { ArtifactRef, InputTask, Json, JsonObject, StageDecl, TaskContext } from './types.ts';

/** A section's params: a TypeBox object (its properties are the keys) or a map of key -> schema. */
export type SectionParams = TObject | Record<string, TSchema>;
export type ParamDecl = Record<string, TSchema | SectionParams>;

/** A schema's static type; a plain map of schemas gives an object of their static types. */
type ValueOf<S> = S extends TSchema ? Static<S> : { [K in keyof S]: S[K] extends TSchema ? Static<S[K]> : never };
/** The typed values of a param declaration. */
export type ParamValues<P extends ParamDecl> = { [K in keyof P]: ValueOf<P[K]> };

/** What a typed stage's run() receives: the engine's context with typed params and input helpers. */
export interface TypedContext<P> extends Omit<TaskContext, 'params'> {
  params: P;
  /** The one upstream task of `stage` (an error names the stage when there is none or several). */
  one(stage: string): InputTask;
  /** An upstream output's bytes: `ref(stage, output)` of the one upstream task of that stage. */
  bytesOf(stage: string, output: string): Promise<Buffer>;
  /** Every upstream task of `stage`'s JSON output `output`, in the engine's task order. */
  allJson<T>(stage: string, output: string): Promise<T[]>;
}

export interface TypedStageDecl<P extends ParamDecl> extends Omit<StageDecl, 'params' | 'run'> {
  params: P;
  run(ctx: TypedContext<ParamValues<P>>): Promise<void>;
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

/** The engine's flat `{ 'a1.lr': 1 }` values as the declaration's nested shape. */
export function nestParams<P extends ParamDecl>(decl: P, flat: JsonObject): ParamValues<P> {
  const out: Record<string, Json> = {};
  for (const [name, section] of Object.entries(decl)) {
    const keys = sectionKeys(section);
    out[name] = keys ? Object.fromEntries(keys.map((k) => [k, flat[`${name}.${k}`] ?? null])) : (flat[name] ?? null);
  }
  return out as unknown as ParamValues<P>;
}

function typedContext<P>(ctx: TaskContext, params: P): TypedContext<P> {
  const one = (stage: string): InputTask => {
    const tasks = ctx.inputs[stage] ?? [];
    if (tasks.length !== 1) throw new Error(`${ctx.id}: expected exactly one upstream '${stage}' task, got ${tasks.length}`);
    return tasks[0]!;
  };
  const output = (task: InputTask, name: string): ArtifactRef => {
    const ref = task.outputs[name];
    if (!ref) throw new Error(`${ctx.id}: upstream task ${task.id} has no output '${name}'`);
    return ref;
  };
  return {
    ...ctx,
    params,
    one,
    bytesOf: (stage, name) => ctx.readBytes(output(one(stage), name)),
    allJson: <T>(stage: string, name: string) => Promise.all((ctx.inputs[stage] ?? []).map((t) => ctx.readJson<T>(output(t, name)))),
  };
}

/** A stage whose params are declared once, typed. */
export function defineStage<P extends ParamDecl>(decl: TypedStageDecl<P>): StageDecl {
  const { params, run, ...rest } = decl;
  return {
    ...rest,
    params: paramKeys(params),
    run: (ctx) => run(typedContext(ctx, nestParams(params, ctx.params))),
  };
}
