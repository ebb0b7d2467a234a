// Operator calls about the master process itself, with Mesos v1 response shapes
// (master.proto Response.GetHealth, GetVersion, GetFlags, GetMaster).
import { flotillaVersion } from '../../util/version.ts';
import { requireAllowed } from '../access.ts';
import type { OperatorCallTable } from './registry.ts';

export const basicCalls: OperatorCallTable = {
  GET_HEALTH: {
    write: false,
    local: true,
    async handle() {
      return { type: 'GET_HEALTH', get_health: { healthy: true } };
    },
  },
  GET_VERSION: {
    write: false,
    local: true,
    async handle() {
      return {
        type: 'GET_VERSION',
        get_version: { version_info: { version: flotillaVersion(), build_user: 'flotilla' } },
      };
    },
  },
  GET_FLAGS: {
    write: false,
    local: true,
    async handle({ master, access }) {
      // Mesos' view_flags: the flags name files and addresses an operator may want to keep to some.
      requireAllowed(access, 'view_flags', null);
      const flags = Object.entries(master.flags)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, value]) => ({ name, value }));
      return { type: 'GET_FLAGS', get_flags: { flags } };
    },
  },
  GET_MASTER: {
    write: false,
    local: true,
    async handle({ master }) {
      const electedAtMs = master.electedAtMs();
      const [hostname, port] = splitAddress(master.address);
      return {
        type: 'GET_MASTER',
        get_master: {
          master_info: {
            id: master.id,
            ip: 0,
            port,
            hostname,
            version: flotillaVersion(),
            address: { hostname, ip: hostname, port },
          },
          start_time: master.startedAtMs / 1000,
          ...(electedAtMs !== null ? { elected_time: electedAtMs / 1000 } : {}),
        },
      };
    },
  },
};

function splitAddress(address: string): [string, number] {
  const separator = address.lastIndexOf(':');
  return [address.slice(0, separator), Number(address.slice(separator + 1))];
}
