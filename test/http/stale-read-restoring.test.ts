// `?stale=true` answers from this master's applied state at once, however far behind; but a
// master just restarted and still reading its snapshot in slices holds the empty state of index 0,
// which is not the cluster's state at any moment: that read is refused 503 until the swap.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../src/http/errors.ts';
import { readConsistency } from '../../src/http/reads.ts';
import type { MasterCore } from '../../src/master/interface.ts';

function masterRestoring(restoring: boolean): MasterCore {
  const master = { restoringSnapshot: () => restoring, linearizableRead: async () => undefined };
  return master as unknown as MasterCore;
}

test('a stale read of a master still restoring its snapshot is refused UNAVAILABLE with Retry-After', async () => {
  const refused = await readConsistency(masterRestoring(true), 'true').then(
    () => null,
    (error: unknown) => error,
  );
  assert.instance(refused, HttpError);
  assert.is((refused as HttpError).code, 'UNAVAILABLE');
  assert.is((refused as HttpError).status, 503);
  assert.ok((refused as HttpError).headers['retry-after'] !== undefined);
  assert.match((refused as HttpError).message, /restoring its snapshot/);
});

test('a stale read of a master that restored is answered at once; a linearizable one takes its barrier', async () => {
  await readConsistency(masterRestoring(false), 'true');
  await readConsistency(masterRestoring(true), undefined);
});

test.run();
