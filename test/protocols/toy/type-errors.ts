// Checked by `tsc` (make test), never run: each @ts-expect-error must meet a real type error, or the
// type check fails. A protocol missing a required part, or fitting a table it does not have, must not compile.
import { defineProtocol } from '../../../stages/protocols/protocol.ts';
import { toyProtocol } from './protocol.ts';

const { fits: _fits, ...withoutFits } = toyProtocol;

// @ts-expect-error -- 'fits' is missing
defineProtocol<'toy'>()({ ...withoutFits });

defineProtocol<'toy'>()({
  ...withoutFits,
  // @ts-expect-error -- table 'other' is not one of the protocol's tables
  fits: [{ metric: 'x', table: 'other', keys: [], value: 'err', expectations: () => [] }],
});
