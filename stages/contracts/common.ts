// Pieces shared by several artifact contracts, and the one way a TypeBox schema becomes the plain
// JSON Schema the engine validates with ajv.
import { Type, type SchemaOptions, type TSchema } from '@sinclair/typebox';
import type { JsonObject } from '../../pipeline/engine/types.ts';

export const SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

/**
 * One of a few strings, as a JSON Schema `enum`: a wrong value gets one error listing the allowed
 * ones (a union of literals gives one error per literal).
 */
export function stringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

/** A number, or null where the value was not finite (a diverged run). */
export const Num = Type.Union([Type.Number(), Type.Null()], { description: 'null where the value was not finite' });

/** The MLP an artifact was computed on (model/spec.ts resolveSpec). */
export const ModelDesc = Type.Object({
  dIn: Type.Integer(),
  sizes: Type.Array(Type.Integer()),
  parameterization: stringEnum(['ntk', 'standard', 'meanfield']),
  sigmaW: Type.Number(),
  sigmaB: Type.Number(),
  outputExponent: Type.Optional(Type.Number({ description: "mean-field only, where it is not 1/2: the output layer's extra exponent gamma (stages/model/spec.ts)" })),
  parameters: Type.Integer(),
}, { additionalProperties: false });

/** The tfjs backend that computed an artifact. */
export const BackendDesc = Type.Object({
  name: Type.String(),
  tfjsVersion: Type.String(),
  device: Type.Optional(Type.String({ description: 'the device that computed: CUDA GPU model and memory, WebGPU adapter, or CPU' })),
}, { additionalProperties: false });

/** The plain JSON Schema of a TypeBox schema (TypeBox's symbol keys dropped), for ajv and for schemas/. */
export function jsonSchema(schema: TSchema): JsonObject {
  return JSON.parse(JSON.stringify(schema)) as JsonObject;
}

/**
 * Top-level options of an artifact schema: its dialect, id (the file in schemas/) and title.
 * `dialect: false` leaves `$schema` out, for a schema that must compile under draft-07 and 2020-12 alike.
 */
export function artifactOptions(file: string, title: string, description?: string, opts: { dialect?: boolean } = {}) {
  return {
    ...(opts.dialect === false ? {} : { $schema: SCHEMA_DIALECT }),
    $id: `weakcorr/${file}`, title, ...(description ? { description } : {}), additionalProperties: false,
  };
}
