// `weakcorr doctor`: for every backend, is its package installed, do its native parts load, is
// a device present, which libraries are found or missing, what adapter is there; which backend
// `auto` picks and why; and the exact fix for each problem. Read-only; never loads tfjs here
// (native parts are tried in short-lived child processes).
import { AUTO_ORDER, backendOf, type ConcreteBackend } from './index.ts';
import { CUDA_LIBS } from './cuda-libs.ts';
import { packageInstalled, packageVersion } from './packages.ts';
import { describeAdapter } from './dawn.ts';
import type { BackendFindings, DoctorDeps } from './types.ts';

export type { DoctorDeps, Problem } from './types.ts';

export type BackendReport = { name: ConcreteBackend } & BackendFindings & {
  /** what `auto` would make of it */
  autoUsable: boolean;
  autoReason: string;
};

export type DoctorReport = {
  platform: string;
  node: string;
  backends: BackendReport[];
  auto: { backend: ConcreteBackend | null; why: string; skipped: { name: ConcreteBackend; reason: string }[] };
};

/** The generic part (package installed, with its fix), then the backend's own checks. */
function report(name: ConcreteBackend, deps: DoctorDeps): BackendReport {
  const b = backendOf(name);
  const pkg = b.package;
  const installed = packageInstalled(pkg);
  const r: BackendReport = {
    name, package: pkg, installed, version: packageVersion(pkg) ?? null,
    native: { ok: false, detail: 'not checked' }, device: { present: true, detail: 'the CPU' },
    autoUsable: false, autoReason: '', problems: [],
  };
  if (!installed) r.problems.push({ problem: `${pkg} is not installed`, fix: b.installFix });
  b.doctor(r, deps);
  return r;
}

/** The full report. Static probes plus child-process loads; never throws for a broken backend. */
export function doctor(deps: DoctorDeps = {}): DoctorReport {
  const backends = AUTO_ORDER.map((name) => report(name, deps));
  const skipped: { name: ConcreteBackend; reason: string }[] = [];
  let chosen: ConcreteBackend | null = null;
  for (const b of backends) {
    // auto's rule (backend-choice.ts): a backend is usable when nothing above is a problem
    // (a software-only adapter counts as one for auto).
    b.autoUsable = b.problems.length === 0;
    b.autoReason = b.autoUsable ? 'usable' : b.problems[0].problem;
    if (chosen) continue;
    if (b.autoUsable) chosen = b.name;
    else skipped.push({ name: b.name, reason: b.autoReason });
  }
  const why = chosen
    ? `${chosen} is the first usable backend in the order ${AUTO_ORDER.join(' -> ')}` + (skipped.length ? ` (skipped ${skipped.map((s) => s.name).join(', ')})` : '')
    : 'no backend is usable';
  return { platform: `${process.platform}-${process.arch}`, node: process.version, backends, auto: { backend: chosen, why, skipped } };
}

export function formatDoctor(r: DoctorReport): string {
  const out: string[] = [`weakcorr doctor (${r.platform}, Node ${r.node})`, ''];
  const mark = (ok: boolean): string => (ok ? 'ok ' : 'NO ');
  for (const b of r.backends) {
    out.push(`${b.name}: ${b.package}${b.version ? ` ${b.version}` : ''}`);
    out.push(`  ${mark(b.installed)} package installed`);
    out.push(`  ${mark(b.native.ok)} native parts: ${b.native.detail}`);
    out.push(`  ${mark(b.device.present)} device: ${b.device.detail}`);
    if (b.libraries) {
      out.push(`  ${mark(b.libraries.missing.length === 0)} CUDA/cuDNN libraries: found ${Object.keys(b.libraries.found).join(', ') || 'none'}; missing ${b.libraries.missing.join(', ') || 'none'} (of ${CUDA_LIBS.length})`);
    }
    if (b.adapter?.ok) {
      out.push(`      adapter: ${describeAdapter(b.adapter)}; maxStorageBufferBindingSize ${((b.adapter.maxStorageBufferBindingSize ?? 0) / 1024 ** 2).toFixed(0)} MiB`);
    }
    if (b.precision) out.push(`      precision: ${b.precision}`);
    for (const n of b.notes ?? []) out.push(`  note: ${n}`);
    // No device (a CPU machine's GPU backends): a fact about the machine, not a problem to fix.
    if (!b.device.present) out.push(`  absent: this machine has no device for ${b.name}; auto goes on to the next backend (--json: what it would need)`);
    else for (const p of b.problems) out.push(`  problem: ${p.problem}`, `      fix: ${p.fix}`);
    out.push('');
  }
  out.push(`auto picks: ${r.auto.backend ?? 'nothing'}: ${r.auto.why}`);
  for (const s of r.auto.skipped) out.push(`  skipped ${s.name}: ${s.reason}`);
  return out.join('\n');
}
