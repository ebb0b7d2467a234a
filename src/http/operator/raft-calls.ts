// Flotilla's own operator calls about the masters themselves: GET_RAFT (with which leader
// services run here, and in which term), ADD_MASTER,
// REMOVE_MASTER, TRANSFER_LEADERSHIP (an operator replaces a dead master without downtime:
// ADD_MASTER starts it as a learner and promotes it once it has caught up). The changes are
// authorized per master id: change_raft_membership, transfer_leadership (the target; ANY when
// the leader picks it).
import { requireAllowed } from '../access.ts';
import { HttpError } from '../errors.ts';
import type { OperatorCallTable } from './registry.ts';
import { objectField, stringField } from './fields.ts';

const addressPattern = /^[A-Za-z0-9.-]{1,253}:\d{1,5}$/;
const masterIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

export const raftCalls: OperatorCallTable = {
  GET_RAFT: {
    write: false,
    local: true,
    async handle({ master }) {
      return { type: 'GET_RAFT', get_raft: { ...master.raft(), leader_services: master.leaderServices() } };
    },
  },
  ADD_MASTER: {
    write: true,
    async handle({ master, call, access }) {
      const body = objectField(call, 'add_master');
      const id = stringField(body, 'id', masterIdPattern, 'add_master.id');
      const address = stringField(body, 'address', addressPattern, 'add_master.address');
      requireAllowed(access, 'change_raft_membership', id);
      const added = await master.changeMembership({ type: 'add', id, address });
      return { type: 'ADD_MASTER', add_master: { id, address, index: added.index, role: 'learner' } };
    },
  },
  PROMOTE_MASTER: {
    write: true,
    async handle({ master, call, access }) {
      const id = stringField(objectField(call, 'promote_master'), 'id', masterIdPattern, 'promote_master.id');
      requireAllowed(access, 'change_raft_membership', id);
      const promoted = await master.changeMembership({ type: 'promote', id });
      return { type: 'PROMOTE_MASTER', promote_master: { id, index: promoted.index, role: 'voter' } };
    },
  },
  REMOVE_MASTER: {
    write: true,
    async handle({ master, call, access }) {
      const id = stringField(objectField(call, 'remove_master'), 'id', masterIdPattern, 'remove_master.id');
      requireAllowed(access, 'change_raft_membership', id);
      const removed = await master.changeMembership({ type: 'remove', id });
      return { type: 'REMOVE_MASTER', remove_master: { id, index: removed.index } };
    },
  },
  TRANSFER_LEADERSHIP: {
    write: true,
    async handle({ master, call, access }) {
      const body =
        call.transfer_leadership === undefined || call.transfer_leadership === null
          ? {}
          : objectField(call, 'transfer_leadership');
      const to =
        body.id === undefined || body.id === null
          ? null
          : stringField(body, 'id', masterIdPattern, 'transfer_leadership.id');
      requireAllowed(access, 'transfer_leadership', to);
      if (!master.transferLeadership(to)) {
        throw new HttpError(
          'CONFLICT',
          to === null ? 'no voter to hand leadership to' : `cannot hand leadership to ${to}: not a voter, or itself`,
        );
      }
      return null;
    },
  },
};
