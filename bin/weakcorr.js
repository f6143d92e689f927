#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step between an edit and a run.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

register();
const root = fileURLToPath(new URL('..', import.meta.url));
const { main } = await import('../pipeline/engine/main.ts');
await main(`${root}stages/wiring/project.ts`, 'WEAKCORR_PROJECT');
