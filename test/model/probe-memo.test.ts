// The slow backend probes (OpenBLAS's core, the WebGPU adapter) through the store's memo: a read
// command takes the filed answer only while every fact it was found from is the same; a change of
// any one probes again; a fresh memo (run) always probes. The memo is a real store's.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreProbeMemo } from '../../pipeline/engine/probe-memo.ts';
import { Store } from '../../pipeline/engine/store.ts';
import { describeBackendChoice } from '../../stages/model/backend-choice.ts';
import { adapterFacts, probeAdapterSync } from '../../stages/model/backends/dawn.ts';
import { CORE_ENV, LIB_ENV, findLibrary, openblasFacts, probeOpenblas } from '../../stages/model/backends/openblas.ts';
import { runtimeOf } from '../../stages/model/runtime.ts';

async function memos(): Promise<{ dir: string; fresh: StoreProbeMemo; read: StoreProbeMemo }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-probes-'));
  const store = new Store(dir);
  await store.init();
  return { dir, fresh: new StoreProbeMemo(store), read: new StoreProbeMemo(new Store(dir, { readOnly: true })) };
}

/** Rewrites every filed answer of `name` (a stand-in for a stale one: what a later probe would not say). */
function tamper(dir: string, name: string, f: (value: any) => void): void {
  for (const file of fs.readdirSync(path.join(dir, 'probes')).filter((n) => n.startsWith(`${name}-`))) {
    const p = path.join(dir, 'probes', file);
    const o = JSON.parse(fs.readFileSync(p, 'utf8'));
    f(o.value);
    fs.writeFileSync(p, JSON.stringify(o));
  }
}

describe('model/backends: slow probes through the store memo', function () {
  this.timeout(120_000);

  describe('OpenBLAS', function () {
    before(function () {
      if (!probeOpenblas().ok) this.skip();
    });

    it('the filed core stands in for the child processes; a changed library, core setting or CPU probes again', async () => {
      const { dir, fresh, read } = await memos();
      // Without a core setting of the machine's own (some set OPENBLAS_CORETYPE): setting one below is the change.
      const env = { ...process.env };
      delete env[CORE_ENV];
      const live = probeOpenblas(env);
      assert.deepEqual(probeOpenblas(env, undefined, fresh), live, 'a fresh memo probes (and files)');
      tamper(dir, 'openblas', (v) => { v.core = 'Filed'; v.reason = 'filed'; });
      assert.equal(probeOpenblas(env, undefined, read).core, 'Filed', 'a read command takes the filed answer');
      assert.equal(probeOpenblas(env, undefined, fresh).core, live.core, 'a fresh memo never does...');
      assert.equal(probeOpenblas(env, undefined, read).core, live.core, '...and files what it found over the stale answer');
      tamper(dir, 'openblas', (v) => { v.core = 'Filed'; v.reason = 'filed'; });
      // The filed answer enters the key (the blas backend's precision part) ...
      const choice = describeBackendChoice('blas', read);
      assert.equal(runtimeOf(choice, env, read).blasCore, 'Filed');
      // ... until one fact changes. The user's core setting:
      const haswell = probeOpenblas({ ...env, [CORE_ENV]: 'Haswell' }, undefined, read);
      assert.equal(haswell.core, 'Haswell');
      assert.equal(haswell.coreSource, 'user');
      // The CPU OpenBLAS detects its core from:
      const cpuinfo = 'processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse3 avx avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl\n\n';
      assert.notEqual(probeOpenblas(env, cpuinfo, read).core, 'Filed');
      // The library setting (here: the same file, named through its real path):
      const lib = findLibrary(env).path!;
      assert.notEqual(probeOpenblas({ ...env, [LIB_ENV]: fs.realpathSync(lib) }, undefined, read).core, 'Filed');
      // And the library file is a fact by what it resolves to, its size and mtime (a new OpenBLAS, a moved link).
      const facts = openblasFacts(env) as { libraries: Record<string, unknown[] | null> };
      assert.deepEqual(facts.libraries[lib], [fs.realpathSync(lib), fs.statSync(lib).size, fs.statSync(lib).mtimeMs]);
    });
  });

  describe('WebGPU adapter', function () {
    it('the filed adapter stands in for Dawn; a changed Vulkan setting probes again', async () => {
      const { dir, fresh, read } = await memos();
      const live = probeAdapterSync(fresh);
      assert.deepEqual(probeAdapterSync(), live);
      tamper(dir, 'webgpu-adapter', (v) => { Object.assign(v, { ok: true, vendor: 'filed', architecture: 'filed', device: 'filed', software: false }); delete v.reason; });
      assert.equal(probeAdapterSync(read).vendor, 'filed');
      assert.deepEqual(probeAdapterSync(fresh), live);
      assert.deepEqual(probeAdapterSync(read), live, 'the fresh probe was filed over the stale answer');
      tamper(dir, 'webgpu-adapter', (v) => { Object.assign(v, { ok: true, vendor: 'filed', architecture: 'filed', device: 'filed', software: false }); delete v.reason; });
      const saved = process.env.VK_DRIVER_FILES;
      process.env.VK_DRIVER_FILES = '/nonexistent/icd.json';
      try {
        assert.notDeepEqual(adapterFacts(), adapterFacts({ ...process.env, VK_DRIVER_FILES: saved ?? '' }));
        // Probes again (this process's own live answer; the memo's is not taken).
        assert.deepEqual(probeAdapterSync(read), live);
      } finally {
        if (saved === undefined) delete process.env.VK_DRIVER_FILES;
        else process.env.VK_DRIVER_FILES = saved;
      }
      const facts = adapterFacts() as { manifests: Record<string, unknown>; cpu: Record<string, string> };
      if (fs.existsSync('/usr/share/vulkan/icd.d')) assert.ok('/usr/share/vulkan/icd.d' in facts.manifests, 'the driver manifests are facts');
      assert.ok(facts.cpu.flags || facts.cpu.Features, 'the CPU is a fact (a software adapter names its vector width)');
    });
  });
});
