// `make gpu-pack`: one self-contained folder that runs gpu-check on a bare x86-64 Linux GPU
// machine with no network, no npm and no Node.js: an esbuild bundle of the training code and
// gpu-check, Dawn's dawn.node (linux-x64), the tfjs wasm binaries, a gzip-compressed Node.js
// (this one), the Vulkan loader when this machine has one, an MNIST slice and a launcher.
//   node --import tsx tools/gpu-pack.ts [--out dist/gpu-pack]
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { build } from 'esbuild';
import { gunzipBytes, parseIdx } from '../stages/fetch/idx.ts';
import { ldconfigCache } from '../stages/model/backends/cuda-libs.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
export const PACK_LIMIT = 64 * 1024 ** 2;
/** Training images kept in the pack's MNIST slice (the test split is kept whole). */
const TRAIN_SLICE = 10_000;

function pkgDir(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== name) dir = path.dirname(dir);
  return dir;
}
const version = (name: string): string => JSON.parse(fs.readFileSync(path.join(pkgDir(name), 'package.json'), 'utf8')).version as string;

async function gzipFile(src: string, dest: string, level = 6): Promise<void> {
  await pipeline(fs.createReadStream(src), zlib.createGzip({ level }), fs.createWriteStream(dest));
}

/** An idx file cut to its first `count` items, header rewritten. */
function idxHead(bytes: Uint8Array, count: number): Buffer {
  const idx = parseIdx('idx', bytes);
  const per = idx.dims.slice(1).reduce((a, b) => a * b, 1);
  const n = Math.min(count, idx.dims[0]);
  const head = Buffer.alloc(4 + 4 * idx.dims.length);
  head.writeUInt32BE(idx.magic, 0);
  [n, ...idx.dims.slice(1)].forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(idx.data.subarray(0, n * per))]);
}

/** The system's x86-64 Vulkan loader, as the loader cache (`ldconfig -p`) names it. */
function vulkanLoader(): string | undefined {
  const line = ldconfigCache().split('\n').find((l) => l.includes('libvulkan.so.1 ') && l.includes('x86-64'));
  try {
    return line ? fs.realpathSync(line.split('=>').pop()!.trim()) : undefined;
  } catch {
    return undefined;
  }
}

const LAUNCHER = `#!/bin/sh
# gpu-check from the weakcorr GPU pack: doctor, the A.2 step benchmark and a small paper-a2 slice
# on the best GPU backend next to the CPU backend. Needs only sh, gzip and glibc >= 2.28:
# the Node.js binary, Dawn and the data are inside this folder. Arguments go to gpu-check
# (--quick, --backend webgpu|gpu, --widths 256,1024,2048, --slice-width N, --slice-steps N).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
id=$(cat "$here/PACK_ID")
# Unpacked once per pack version (Node.js and dawn.node are stored compressed).
run="\${WEAKCORR_PACK_RUN:-\${XDG_CACHE_HOME:-\${HOME:-/tmp}/.cache}/weakcorr-gpu-pack/$id}"
mkdir -p "$run" 2>/dev/null || { run="\${TMPDIR:-/tmp}/weakcorr-gpu-pack-$id"; mkdir -p "$run"; }
if [ ! -f "$run/.ready" ]; then
  tmp="$run.partial.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  gzip -dc "$here/node.gz" > "$tmp/node"
  chmod +x "$tmp/node"
  cp -R "$here/app" "$tmp/app"
  gzip -d "$tmp/app/node_modules/webgpu/dist/linux-x64/dawn.node.gz"
  if [ -d "$here/lib" ]; then cp -R "$here/lib" "$tmp/lib"; fi
  rm -rf "$run"
  mv "$tmp" "$run"
  touch "$run/.ready"
fi
# The Vulkan loader Dawn opens: the system's, else the one shipped here.
if ! { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } | grep -q 'libvulkan\\.so\\.1 ' && [ -d "$run/lib" ]; then
  LD_LIBRARY_PATH="$run/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LD_LIBRARY_PATH
fi
data=
if [ -d "$here/data/mnist" ]; then data="--data $here/data/mnist"; fi
# shellcheck disable=SC2086
exec "$run/node" "$run/app/gpu-check.mjs" $data "$@"
`;

export async function buildPack(out: string, log: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<{ out: string; bytes: number; files: Record<string, number> }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`gpu-pack builds a linux-x64 pack and must run on linux-x64 (this is ${process.platform}-${process.arch})`);
  const tmp = `${out}.partial`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'app'), { recursive: true });

  // 1. The bundle: gpu-check and everything it imports, tfjs included; Dawn stays a real package.
  const bundled = Object.fromEntries(['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu']
    .map((p) => [p, version(p)]));
  await build({
    entryPoints: [path.join(REPO, 'bench/gpu-check.ts')],
    outfile: path.join(tmp, 'app/gpu-check.mjs'),
    bundle: true, platform: 'node', format: 'esm', target: 'node20', minify: true, legalComments: 'none', logLevel: 'error',
    external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
    define: { __WEAKCORR_BUNDLED__: JSON.stringify(bundled) },
    // CommonJS parts of tfjs use require/__dirname (the wasm backend finds its .wasm beside the bundle).
    banner: { js: "import{createRequire as __wcR}from'node:module';import{fileURLToPath as __wcF}from'node:url';const require=__wcR(import.meta.url);const __filename=__wcF(import.meta.url);const __dirname=__wcF(new URL('.',import.meta.url));" },
  });
  for (const f of ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm']) {
    fs.copyFileSync(path.join(pkgDir('@tensorflow/tfjs-backend-wasm'), 'dist', f), path.join(tmp, 'app', f));
  }
  // 2. Dawn for linux-x64 only (the npm package holds five platforms: 132 MB).
  const dawn = pkgDir('webgpu');
  const wdir = path.join(tmp, 'app/node_modules/webgpu');
  fs.mkdirSync(path.join(wdir, 'dist/linux-x64'), { recursive: true });
  for (const f of ['package.json', 'index.js', 'LICENSE.md']) fs.copyFileSync(path.join(dawn, f), path.join(wdir, f));
  await gzipFile(path.join(dawn, 'dist/linux-x64/dawn.node'), path.join(wdir, 'dist/linux-x64/dawn.node.gz'));
  // 3. Node.js: this very binary, compressed.
  await gzipFile(process.execPath, path.join(tmp, 'node.gz'));
  // 4. The Vulkan loader (ICDs, the drivers, come from the GPU machine).
  const vk = vulkanLoader();
  if (vk) {
    fs.mkdirSync(path.join(tmp, 'lib'));
    fs.copyFileSync(vk, path.join(tmp, 'lib/libvulkan.so.1'));
  } else log('gpu-pack: no libvulkan.so.1 on this machine: the pack will rely on the GPU machine\'s');
  // 5. MNIST: the test split and the first training images, when a copy is at hand.
  const mirror = [process.env.WEAKCORR_DATA_MIRROR, path.resolve(REPO, '../shared/datasets'), path.join(REPO, 'data/raw')]
    .map((d) => d && path.join(d, 'mnist')).find((d): d is string => !!d && fs.existsSync(path.join(d, 'train-images-idx3-ubyte.gz')));
  if (mirror) {
    const ddir = path.join(tmp, 'data/mnist');
    fs.mkdirSync(ddir, { recursive: true });
    for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) fs.copyFileSync(path.join(mirror, f), path.join(ddir, f));
    for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']) {
      const raw = await gunzipBytes(f, fs.readFileSync(path.join(mirror, f)));
      fs.writeFileSync(path.join(ddir, f), zlib.gzipSync(idxHead(raw, TRAIN_SLICE), { level: 9 }));
    }
  } else log('gpu-pack: no MNIST copy found (WEAKCORR_DATA_MIRROR): the pack will use synthetic images');
  // 6. Launcher, an id that changes with the contents, and a README.
  fs.writeFileSync(path.join(tmp, 'gpu-check'), LAUNCHER, { mode: 0o755 });
  const files: Record<string, number> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files[path.relative(tmp, p)] = fs.statSync(p).size;
    }
  };
  walk(tmp);
  const h = createHash('sha256');
  for (const f of Object.keys(files).sort()) h.update(f).update(fs.readFileSync(path.join(tmp, f)));
  fs.writeFileSync(path.join(tmp, 'PACK_ID'), h.digest('hex').slice(0, 16) + '\n');
  fs.writeFileSync(path.join(tmp, 'README.txt'), `weakcorr GPU pack (linux-x64, Node ${process.version}, tfjs ${bundled['@tensorflow/tfjs']}, webgpu ${version('webgpu')})\n\n` +
    `Copy this folder to the GPU machine and run ./gpu-check (./gpu-check --quick for a short run).\n` +
    `GPU backends: webgpu needs a Vulkan driver (NVIDIA: the proprietary driver with its Vulkan ICD; in containers\n` +
    `NVIDIA_DRIVER_CAPABILITIES must include graphics). The first run unpacks Node.js and Dawn to ~/.cache/weakcorr-gpu-pack\n` +
    `(or $WEAKCORR_PACK_RUN).\n`);
  const bytes = Object.values(files).reduce((a, b) => a + b, 0) + 2048;
  if (bytes > PACK_LIMIT) throw new Error(`gpu-pack is ${(bytes / 1024 ** 2).toFixed(1)} MiB, over the ${PACK_LIMIT / 1024 ** 2} MiB limit`);
  fs.rmSync(out, { recursive: true, force: true });
  fs.renameSync(tmp, out);
  log(`gpu-pack: ${out} (${(bytes / 1024 ** 2).toFixed(1)} MiB): ${Object.entries(files).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([f, b]) => `${f} ${(b / 1024 ** 2).toFixed(1)} MiB`).join(', ')}`);
  return { out, bytes, files };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = path.resolve(i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : path.join(REPO, 'dist/gpu-pack'));
  try {
    await buildPack(out);
  } catch (e) {
    process.stderr.write(`gpu-pack: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
