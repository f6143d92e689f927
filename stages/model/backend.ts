// Backend selection for the model library. tfjs-node / tfjs-node-gpu are optional and often
// absent (their install script downloads libtensorflow), so `auto` walks a fallback chain,
// while a backend asked for by name must load or throw: results must never silently come
// from a different backend than the one a cache key claims.
import * as tf from '@tensorflow/tfjs';
import {
  AUTO_ORDER, PACKAGE, TF_NAME, cudaGpuPresent, parseBackendKind,
  type BackendAttempt, type BackendKind, type ConcreteBackend,
} from './backend-choice.ts';

export { tf };
export {
  describeBackendChoice, cudaGpuPresent, parseBackendKind,
  type BackendAttempt, type BackendChoice, type BackendKind, type ConcreteBackend,
} from './backend-choice.ts';

export interface BackendInfo {
  /** Which of our backends is active. */
  name: ConcreteBackend;
  /** tfjs's own backend name ('tensorflow' for node and gpu, 'wasm', 'cpu'). */
  tfBackend: string;
  tfjsVersion: string;
  tried: BackendAttempt[];
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

async function load(name: ConcreteBackend): Promise<void> {
  if (name === 'gpu') {
    const gpu = cudaGpuPresent();
    if (!gpu.present) throw new Error(`no CUDA GPU: ${gpu.reason}`);
  }
  if (name === 'gpu' || name === 'node') {
    // Importing registers the 'tensorflow' backend with the shared tfjs-core instance.
    await import(PACKAGE[name]);
    if (tf.findBackendFactory('tensorflow') == null) throw new Error(`${PACKAGE[name]} loaded but registered no 'tensorflow' backend (duplicate tfjs-core copy?)`);
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
  }
  // setBackend reports init failures as `false` (with a console warning), not as a throw.
  const ok = await tf.setBackend(TF_NAME[name]);
  if (!ok) throw new Error(`tf.setBackend('${TF_NAME[name]}') failed to initialize`);
  await tf.ready();
  if (tf.getBackend() !== TF_NAME[name]) throw new Error(`active backend is '${tf.getBackend()}', expected '${TF_NAME[name]}'`);
}

export interface SelectOptions {
  /** Where the one-line choice summary goes; default stderr. Pass () => {} to silence. */
  log?: (line: string) => void;
}

/**
 * Load and activate a tfjs backend. 'auto' tries gpu (only with a CUDA GPU), node, wasm, cpu
 * in that order; a named backend that cannot load throws an Error naming it and the cause.
 */
export async function selectBackend(
  kind: BackendKind = parseBackendKind(process.env.WEAKCORR_BACKEND),
  opts: SelectOptions = {},
): Promise<BackendInfo> {
  kind = parseBackendKind(kind);
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const order = kind === 'auto' ? AUTO_ORDER : [kind];
  const tried: BackendAttempt[] = [];
  for (const name of order) {
    try {
      await load(name);
      tried.push({ name, ok: true, reason: `loaded ${PACKAGE[name]}` });
      const info: BackendInfo = { name, tfBackend: tf.getBackend(), tfjsVersion: tf.version.tfjs, tried };
      log(`[weakcorr] backend ${name} (tfjs ${info.tfjsVersion})` +
        (tried.length > 1 ? `; skipped ${tried.slice(0, -1).map((t) => `${t.name}: ${t.reason}`).join('; ')}` : ''));
      return info;
    } catch (e) {
      tried.push({ name, ok: false, reason: errMsg(e) });
    }
  }
  const detail = tried.map((t) => `${t.name} (${PACKAGE[t.name]}): ${t.reason}`).join('; ');
  throw new Error(kind === 'auto' ? `no tfjs backend could be loaded: ${detail}` : `backend '${kind}' could not be loaded: ${detail}`);
}
