// The one retry loop (pipeline/engine/retry.ts) behind the cluster executor's client commands and
// the downloads, by fault injection: an attempt that fails N times, then succeeds.
import assert from 'node:assert/strict';
import { retrying, type RetryOptions } from '../../pipeline/engine/retry.ts';

class Flaky extends Error {}

/** An attempt that throws Flaky(`failure k`) on its first `failures` calls, then returns 'ok'. */
function flaky(failures: number): { attempt: (n: number) => Promise<string>; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    attempt: async (n) => {
      calls.push(n);
      if (calls.length <= failures) throw new Flaky(`failure ${calls.length}`);
      return 'ok';
    },
  };
}

function options(retries: number, extra: Partial<RetryOptions> = {}): RetryOptions & { waits: [number, number][] } {
  const waits: [number, number][] = [];
  return { retries, baseDelayMs: 2, retryable: (e) => e instanceof Flaky, onRetry: (_e, retry, delay) => void waits.push([retry, delay]), waits, ...extra };
}

describe('engine: retrying (bounded, exponential backoff)', () => {
  it('fails twice, then succeeds on the third attempt, waiting base, then twice base', async () => {
    const f = flaky(2);
    const o = options(3);
    assert.equal(await retrying(f.attempt, o), 'ok');
    assert.deepEqual(f.calls, [1, 2, 3]);
    assert.deepEqual(o.waits, [[1, 2], [2, 4]]);
  });

  it('always failing: retries + 1 attempts, then the last error itself, message unchanged', async () => {
    const f = flaky(Infinity);
    const o = options(3);
    await assert.rejects(retrying(f.attempt, o), (e: unknown) => e instanceof Flaky && e.message === 'failure 4');
    assert.deepEqual(f.calls, [1, 2, 3, 4]);
    assert.deepEqual(o.waits.map(([, d]) => d), [2, 4, 8]);
    // retries: 0 is one attempt and no wait.
    const once = flaky(Infinity);
    await assert.rejects(retrying(once.attempt, options(0)), /failure 1/);
    assert.deepEqual(once.calls, [1]);
  });

  it('an error that is not retryable is thrown at once', async () => {
    const calls: number[] = [];
    const o = options(5);
    await assert.rejects(
      retrying(async (n) => {
        calls.push(n);
        throw new Error('bad option');
      }, o),
      /^Error: bad option$/,
    );
    assert.deepEqual([calls, o.waits], [[1], []]);
  });

  it('an abort ends the wait between attempts, and no attempt follows', async () => {
    const f = flaky(Infinity);
    const ac = new AbortController();
    const o = options(3, { baseDelayMs: 60_000, onRetry: () => ac.abort(), signal: ac.signal });
    const started = Date.now();
    await assert.rejects(retrying(f.attempt, o), { name: 'AbortError' });
    assert.deepEqual(f.calls, [1]);
    assert.ok(Date.now() - started < 30_000, 'the one-minute wait was cut short');
  });
});
