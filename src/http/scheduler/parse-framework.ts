// Mesos FrameworkInfo JSON → the state machine's FrameworkInfo. Roles: `roles` for MULTI_ROLE
// frameworks, else the deprecated `role` (default "*"), as Mesos reads them (framework.md).
// Failover timeout: seconds (a double) → whole milliseconds. `user`: the Unix user its tasks
// run as when their command names none. The same schema the command
// decoder runs then checks every bound, so a SUBSCRIBE that parses is a command that decodes.
import { frameworkInfoSchema } from '../../state-machine/value-schema.ts';
import { compareStrings } from '../../state-machine/ordering.ts';
import { frameworkCapabilities, type FrameworkCapability, type FrameworkInfo } from '../../state-machine/values.ts';
import { maxRolesPerFramework } from '../../state-machine/limits.ts';
import { unreservedRole } from '../../state-machine/roles.ts';
import { HttpError } from '../errors.ts';
import { parseWith } from '../operator/fields.ts';
import {
  type Fields,
  messageList,
  optionalNumberField,
  optionalString,
  requiredString,
  stringList,
} from './json-fields.ts';

const millisecondsPerSecond = 1000;
const knownCapabilities: ReadonlySet<string> = new Set(frameworkCapabilities);

const sortedUnique = (values: readonly string[]): string[] => [...new Set(values)].sort(compareStrings);

function roles(info: Fields, capabilities: readonly string[], path: string): string[] {
  const multiRole = capabilities.includes('MULTI_ROLE');
  const listed = stringList(info, 'roles', `${path}.roles`, maxRolesPerFramework);
  const single = optionalString(info, 'role', `${path}.role`);
  if (multiRole) {
    if (single !== null)
      throw new HttpError('INVALID_BODY', `${path}: a MULTI_ROLE framework sets 'roles', not 'role'`);
    if (listed.length === 0)
      throw new HttpError('INVALID_BODY', `${path}.roles: a MULTI_ROLE framework needs at least one role`);
    return sortedUnique(listed);
  }
  if (listed.length > 0)
    throw new HttpError('INVALID_BODY', `${path}.roles needs the MULTI_ROLE capability; use 'role'`);
  return [single ?? unreservedRole];
}

/**
 * Capabilities Flotilla does not know are dropped, as a Mesos master ignores those it does not
 * act on; unknown enum strings would fail protobuf parsing in Mesos, but newer clients send them.
 */
function capabilities(info: Fields, path: string): FrameworkCapability[] {
  const types = messageList(info, 'capabilities', `${path}.capabilities`, 64).map((capability, position) =>
    requiredString(capability, 'type', `${path}.capabilities[${position}].type`),
  );
  return sortedUnique(types.filter((type) => knownCapabilities.has(type))) as FrameworkCapability[];
}

export function parseFrameworkInfo(info: Fields, path: string): FrameworkInfo {
  const capabilityList = capabilities(info, path);
  const failoverSeconds = optionalNumberField(info, 'failover_timeout', `${path}.failover_timeout`) ?? 0;
  if (failoverSeconds < 0) throw new HttpError('INVALID_BODY', `${path}.failover_timeout must not be negative`);
  const candidate: FrameworkInfo = {
    name: requiredString(info, 'name', `${path}.name`),
    principal: optionalString(info, 'principal', `${path}.principal`),
    roles: roles(info, capabilityList, path),
    failoverTimeoutMs: Math.round(failoverSeconds * millisecondsPerSecond),
    capabilities: capabilityList,
    hostname: optionalString(info, 'hostname', `${path}.hostname`),
    webuiUrl: optionalString(info, 'webui_url', `${path}.webui_url`),
    // Required in Mesos; "" (what the old scheduler driver filled in) means "not given".
    user: optionalString(info, 'user', `${path}.user`) || null,
  };
  return parseWith(frameworkInfoSchema, candidate, path);
}
