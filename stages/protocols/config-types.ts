// Value types protocol config sections share.
import { Type, type SchemaOptions } from '@sinclair/typebox';

export const DatasetName = Type.Union([Type.Literal('mnist'), Type.Literal('fashion-mnist'), Type.Literal('cifar-10')]);
export const activationName = (options?: SchemaOptions) =>
  Type.Union([Type.Literal('relu'), Type.Literal('erf'), Type.Literal('sigmoid'), Type.Literal('gelu')], options);
export const Widths = Type.Array(Type.Integer({ minimum: 1 }), { uniqueItems: true });
export const Seeds = Type.Array(Type.Integer({ minimum: 0 }), { uniqueItems: true });
