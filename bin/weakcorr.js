#!/usr/bin/env node
// The CLI. Runs the compiled JavaScript (bin/compiled.js: built once, rebuilt when a source
// changed); a project named by $WEAKCORR_PROJECT (tests' toy projects) or $WEAKCORR_NO_BUILD=1
// runs the TypeScript sources through tsx instead.
import { importEntry, PROJECT_SOURCE } from './compiled.js';

if (process.env.WEAKCORR_PROJECT) process.env.WEAKCORR_NO_BUILD = '1';
const { main } = await importEntry('main');
await main(PROJECT_SOURCE, 'WEAKCORR_PROJECT');
