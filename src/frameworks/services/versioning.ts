// Versions and service ports, the two things the framework adds to a definition it accepts.
// A version is the ISO time of the change (Marathon's Timestamp); versionInfo says when the app
// last scaled and last changed configuration, which is how instances of an older configuration
// are recognised during a rolling restart. Service ports (Marathon's --local_port_min/max) are
// unique across apps; a port left 0 gets a free one, and keeps the one it had on an update.
import { type AppDefinition, isScaleOnlyChange } from './app-definition.ts';
import type { AppSpec } from './app-parse.ts';
import { servicePortMax, servicePortMin } from './limits.ts';

export interface StampOptions {
  readonly restart?: boolean;
  /** Rollback: the configuration version to restore, so instances already on it stay. */
  readonly configVersion?: string;
}

export function stampVersion(
  spec: AppSpec,
  previous: AppDefinition | null,
  version: string,
  options: StampOptions = {},
): AppDefinition {
  const keepConfig = previous !== null && options.restart !== true && isScaleOnlyChange(previous, spec);
  const lastConfigChangeAt = options.configVersion ?? (keepConfig ? previous.versionInfo.lastConfigChangeAt : version);
  return { ...spec, version, versionInfo: { lastScalingAt: version, lastConfigChangeAt } };
}

/** A version later than `after` (the same millisecond twice would not order changes). */
export function nextVersion(nowMs: number, after: readonly string[]): string {
  let candidate = nowMs;
  for (const version of after) candidate = Math.max(candidate, Date.parse(version) + 1);
  return new Date(candidate).toISOString();
}

export class ServicePortError extends Error {
  override name = 'ServicePortError';
}

/** Ports 0 replaced by free service ports (the previous definition's first, when it had one). */
export function assignServicePorts(spec: AppSpec, previous: AppDefinition | null, used: Set<number>): AppSpec {
  const take = (wanted: number, index: number, previousPorts: readonly number[]): number => {
    if (wanted !== 0) return wanted;
    const kept = previousPorts[index];
    if (kept !== undefined && kept !== 0 && !used.has(kept)) {
      used.add(kept);
      return kept;
    }
    for (let port = servicePortMin; port < servicePortMax; port++) {
      if (!used.has(port)) {
        used.add(port);
        return port;
      }
    }
    throw new ServicePortError(`no free service port in [${servicePortMin}, ${servicePortMax})`);
  };
  const previousDefinitions = previous?.portDefinitions.map((definition) => definition.port) ?? [];
  const previousMappings = previous?.container?.portMappings.map((mapping) => mapping.servicePort) ?? [];
  const portDefinitions = spec.requirePorts
    ? spec.portDefinitions
    : spec.portDefinitions.map((definition, index) => ({
        ...definition,
        port: take(definition.port, index, previousDefinitions),
      }));
  const container =
    spec.container === null
      ? null
      : {
          ...spec.container,
          portMappings: spec.container.portMappings.map((mapping, index) => ({
            ...mapping,
            servicePort: take(mapping.servicePort, index, previousMappings),
          })),
        };
  return { ...spec, portDefinitions, container };
}
