// Value types protocol config sections share.
import { stringEnum } from '../contracts/common.ts';
import { Type, type SchemaOptions } from '@sinclair/typebox';

export const DatasetName = stringEnum(['mnist', 'fashion-mnist', 'cifar-10']);
export const activationName = (options?: SchemaOptions) => stringEnum(['relu', 'erf', 'sigmoid', 'gelu'], options);
export const Widths = Type.Array(Type.Integer({ minimum: 1 }), { uniqueItems: true });
export const Seeds = Type.Array(Type.Integer({ minimum: 0 }), { uniqueItems: true });
