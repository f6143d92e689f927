// Every protocol the pipeline runs. Adding one: a folder beside a1/ and a2/, one line here, and its
// config section in the experiment files. Order is the report's order: Figure 4 (A.2), the paper's
// headline claim, first.
import { a1Protocol } from '../protocols/a1/index.ts';
import { a2Protocol } from '../protocols/a2/index.ts';
import { a2NtkProtocol } from '../protocols/a2-ntk/index.ts';
import { corollaryProtocol } from '../protocols/corollary/index.ts';
import { meanFieldProtocol } from '../protocols/meanfield/index.ts';
import { ntkInferiorityProtocol } from '../protocols/ntk-inferiority/index.ts';
import type { Protocol } from '../protocols/protocol.ts';

export const protocols: Protocol[] = [a2Protocol, a2NtkProtocol, a1Protocol, ntkInferiorityProtocol, corollaryProtocol, meanFieldProtocol];
