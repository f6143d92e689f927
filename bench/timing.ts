// Median wall time of a function, for the benchmarks.

export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median of `reps` timed calls in ms, after `warmup` untimed ones. */
export function medianMs(reps: number, fn: () => void, warmup = 1): number {
  for (let k = 0; k < warmup; k++) fn();
  const ts: number[] = [];
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

/** medianMs for asynchronous work (WebGPU reads are asynchronous in Node). */
export async function medianMsAsync(reps: number, fn: () => Promise<unknown>, warmup = 1): Promise<number> {
  for (let k = 0; k < warmup; k++) await fn();
  const ts: number[] = [];
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}
