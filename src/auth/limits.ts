// Bounds of authentication and authorization in one place (STYLE.md rule 7), units last.

/** Principals in one credentials file. */
export const maxCredentials = 1000;
/** A principal's name: visible ASCII without a colon (RFC 7617: Basic's user-id has none). */
export const maxPrincipalChars = 128;
/**
 * A secret is also a Bearer token, sent with every request over the network: 16 characters at
 * least, as the cluster secret (src/util/shared-secret.ts), so it cannot be guessed by trying.
 */
export const minSecretChars = 16;
export const maxSecretChars = 1024;
/** A credentials or ACL file larger than this is refused before it is parsed. */
export const maxAuthFileBytes = 1024 * 1024;

/** Rules under one action of an ACL file. */
export const maxAclRulesPerAction = 1000;
/** Values of one subject or object entity. */
export const maxAclEntityValues = 1000;
/** One value of an entity (a principal, role, user, KV prefix…). */
export const maxAclValueChars = 1024;

/** How often a daemon that allows anonymous access off loopback says so again. */
export const insecureWarningIntervalMs = 60_000;

/** The realm the 401 challenges name (RFC 7235). */
export const authenticationRealm = 'flotilla';

/** Entries of a --rate-limits file's "limits" list. */
export const maxRateLimitEntries = 1000;
/** The highest qps a rate limit may name (beyond it a limit limits nothing a master can serve). */
export const maxRateLimitQps = 1_000_000;
/**
 * Calls that may wait for their turn under one limit. Mesos leaves capacity unbounded when a limit
 * names none ("may cause OOM"); Flotilla bounds it by this, and by it at most when one is named.
 */
export const maxRateLimitCapacity = 100_000;
