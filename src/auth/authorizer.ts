// Decides whether a requester may do an action to an object, by the ACLs (acls.ts), with the
// semantics of Mesos' local authorizer (src/authorizer/local/authorizer.cpp, `matches` and
// `allows`), so an ACL file reads the same as it would there:
// - the request's subject is SOME[principal], or ANY for an anonymous request; its object is
//   SOME[object], or ANY when the request names none (a task without a user);
// - rules are tried in order; the first whose subjects and objects both *match* decides, and it
//   allows only if both *allow*; no rule matching: `permissive`;
// - matching: a request SOME matches a rule ANY, NONE, or SOME holding its value; a request ANY
//   matches a rule ANY or NONE. Allowing: SOME is allowed by ANY or by SOME holding it, never by
//   NONE; ANY only by ANY. So {"principals": {"type": "NONE"}} denies everyone its objects, and an
//   anonymous request is allowed only by rules whose principals are ANY.
// The cluster itself (a master reading an agent's sandbox for a caller it already authorized) is
// always allowed. Without an ACL file, everything is allowed.
import { assertNever } from '../util/assert.ts';
import { type AclAction, type AclEntity, type Acls, prefixActions } from './acls.ts';
import type { Requester } from './requester.ts';

/** What a request names: one value, or ANY when it names none. */
type RequestEntity = { readonly type: 'ANY' } | { readonly type: 'SOME'; readonly value: string };

const anyEntity: RequestEntity = { type: 'ANY' };

type ValueMatch = (requested: string, listed: string) => boolean;

const equalValue: ValueMatch = (requested, listed) => requested === listed;
const prefixValue: ValueMatch = (requested, listed) => requested.startsWith(listed);

function matches(request: RequestEntity, rule: AclEntity, holds: ValueMatch): boolean {
  if (rule.type === 'ANY' || rule.type === 'NONE') return true;
  if (request.type === 'ANY') return false;
  return rule.values.some((listed) => holds(request.value, listed));
}

function allows(request: RequestEntity, rule: AclEntity, holds: ValueMatch): boolean {
  switch (rule.type) {
    case 'ANY':
      return true;
    case 'NONE':
      return false;
    case 'SOME':
      return request.type === 'SOME' && rule.values.some((listed) => holds(request.value, listed));
    default:
      return assertNever(rule);
  }
}

function subjectOf(requester: Exclude<Requester, { kind: 'cluster' }>): RequestEntity {
  return requester.kind === 'principal' ? { type: 'SOME', value: requester.principal } : anyEntity;
}

export class Authorizer {
  /** null: no ACL file, everything allowed. */
  constructor(readonly acls: Acls | null) {}

  /** Whether `requester` may do `action` to `object` (null: the request names no object: ANY). */
  allows(requester: Requester, action: AclAction, object: string | null): boolean {
    if (this.acls === null || requester.kind === 'cluster') return true;
    const subject = subjectOf(requester);
    const target: RequestEntity = object === null ? anyEntity : { type: 'SOME', value: object };
    const holdsObject = prefixActions.has(action) ? prefixValue : equalValue;
    for (const rule of this.acls.rules[action]) {
      if (matches(subject, rule.subjects, equalValue) && matches(target, rule.objects, holdsObject)) {
        return allows(subject, rule.subjects, equalValue) && allows(target, rule.objects, holdsObject);
      }
    }
    return this.acls.permissive;
  }

  /**
   * Whether every object is allowed to everyone for `action` (no ACL file, or no rule for it in a
   * permissive file): a filter over thousands of tasks can then skip asking per task.
   */
  allowsEverything(action: AclAction): boolean {
    return this.acls === null || (this.acls.permissive && this.acls.rules[action].length === 0);
  }
}

export const allowEverything = new Authorizer(null);
