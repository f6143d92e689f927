// The experiment's 'report' section.
import { Type } from '@sinclair/typebox';

export const ReportConfig = Type.Object({
  title: Type.String({ default: 'weakcorr: weak correlations and linearization' }),
}, { additionalProperties: false, default: {} });
