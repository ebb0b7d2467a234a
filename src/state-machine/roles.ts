// Roles name who resources are for (Mesos "roles.md"): "*" is the default role, i.e. resources
// reserved for nobody. Hierarchical roles use "/" ("eng/web"); each part starts with a letter,
// digit or underscore, so "." and ".." and a leading "-" are impossible, as Mesos requires.
import { maxRoleLength } from './limits.ts';

export type Role = string;
export const unreservedRole: Role = '*';

const rolePattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/;

export function isValidRole(role: string): boolean {
  if (role === unreservedRole) return true;
  return role.length > 0 && role.length <= maxRoleLength && rolePattern.test(role);
}
