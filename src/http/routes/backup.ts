// GET /api/v1/backup: a backup file of the cluster state (src/master/backup/backup-file.ts), for
// `flotilla backup` and any script (curl -o). Any master answers; the read is linearizable by
// default (a ReadIndex round first, so the file holds every write acknowledged before the
// request), or `?stale=true` for this master's applied state as it is. The file holds every KV
// value and task of every framework: the ACL action backup_state (masters: ANY) guards it.
import type { FastifyInstance } from 'fastify';
import type { MasterCore } from '../../master/interface.ts';
import { requireAllowed } from '../access.ts';
import { readConsistency } from '../reads.ts';

export function registerBackupRoutes(app: FastifyInstance, master: MasterCore): void {
  app.get<{ Querystring: { stale?: string } }>('/api/v1/backup', async (request, reply) => {
    requireAllowed(request, 'backup_state', null);
    await readConsistency(master, request.query.stale);
    const file = await master.backup();
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-disposition', `attachment; filename="flotilla-${master.id}.backup"`)
      .send(Buffer.from(file.buffer, file.byteOffset, file.byteLength));
  });
}
