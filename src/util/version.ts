// The version comes from package.json, read once, so `--version` never disagrees with npm.
import { readFileSync } from 'node:fs';

let cachedVersion: string | undefined;

export function flotillaVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  const packageJson: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const version = (packageJson as { version?: unknown }).version;
  if (typeof version !== 'string' || version === '') throw new Error('package.json has no "version" string');
  cachedVersion = version;
  return version;
}
