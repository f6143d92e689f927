// One error vocabulary: every engine error has a kind, the kind an exit code, and every kind
// crosses a process boundary (worker IPC, a batch job's progress file) as itself.
import assert from 'node:assert/strict';
import {
  ConfigError, ContractViolation, CorruptBlobError, EngineError, EXIT_CODE, exitCodeOf, fromWire, GraphError,
  InputError, InterruptedError, SetupError, StoreError, toWire, UsageError,
} from '../../pipeline/engine/errors.ts';
import { ConfigError as ConfigFromConfig } from '../../pipeline/engine/config.ts';
import { GraphError as GraphFromGraph } from '../../pipeline/engine/graph.ts';
import { SetupError as SetupFromStoreCheck } from '../../pipeline/engine/store-check.ts';
import { CorruptBlobError as CorruptFromStore, StoreError as StoreFromStore } from '../../pipeline/engine/store.ts';
import { FetchError } from '../../stages/fetch/errors.ts';

describe('engine: one error vocabulary', () => {
  const samples: [EngineError, string, number][] = [
    [new UsageError('u'), 'usage', 2],
    [new ConfigError('c'), 'config', 2],
    [new GraphError('g'), 'graph', 2],
    [new SetupError('s'), 'setup', 2],
    [new StoreError('st'), 'store', 1],
    [new CorruptBlobError('/x', 'a', 'b'), 'store', 1],
    [new ContractViolation('cv'), 'contract', 1],
    [new InputError('NO_DATA', 'i', { hint: 'get it' }), 'input', 1],
    [new InterruptedError(), 'interrupted', 130],
  ];

  it('every engine error class derives from EngineError, with its kind and exit code', () => {
    for (const [e, kind, code] of samples) {
      assert.ok(e instanceof EngineError, e.name);
      assert.equal(e.kind, kind, e.name);
      assert.equal(exitCodeOf(e), code, e.name);
      assert.equal(EXIT_CODE[e.kind], code);
    }
    assert.equal(exitCodeOf(new Error('a bug')), 1);
  });

  it('the classes are the same wherever they are imported from', () => {
    assert.equal(ConfigFromConfig, ConfigError);
    assert.equal(GraphFromGraph, GraphError);
    assert.equal(SetupFromStoreCheck, SetupError);
    assert.equal(StoreFromStore, StoreError);
    assert.equal(CorruptFromStore, CorruptBlobError);
  });

  it('every kind survives the wire with its class name, code and hint', () => {
    for (const [e] of samples) {
      const back = fromWire(JSON.parse(JSON.stringify(toWire(e))));
      assert.ok(back instanceof EngineError, e.name);
      assert.equal(back.kind, e.kind);
      assert.equal(back.name, e.name);
      assert.equal(back.message, e.message);
    }
    const input = fromWire(toWire(new InputError('NO_DATA', 'i', { hint: 'get it' })));
    assert.ok(input instanceof InputError && input.code === 'NO_DATA' && input.hint === 'get it');
    const fetch = fromWire(toWire(new FetchError('CHECKSUM_MISMATCH', 'x.gz: sha256: expected a, got b')));
    assert.ok(fetch instanceof InputError && fetch.kind === 'input' && fetch.name === 'FetchError' && fetch.code === 'CHECKSUM_MISMATCH');
    const plain = fromWire(toWire(new TypeError('boom')));
    assert.ok(!(plain instanceof EngineError) && plain.name === 'TypeError');
  });
});
