// Bounds and defaults of the services framework in one place (STYLE.md rule 7). Marathon's own
// defaults are named after the Marathon flag or field they follow.

/** App ids are paths; a task id is `<path with _>.<uuid>` and must stay under the SDK's 200. */
export const maxAppIdLength = 150;
/** Apps the framework keeps (each found by listing its `app/` key: no index bounds them). */
export const maxApps = 10_000;
/** Instances of one app (Marathon has no bound; ours keeps pages and offers bounded). */
export const maxInstancesPerApp = 10_000;
/** Instance records in one KV page (a record is at most ~700 bytes; a page stays under 64 KiB). */
export const instancesPerPage = 64;
/** Versions kept per app (Marathon's --zk_max_versions keeps a similar window). */
export const maxVersionsPerApp = 25;
/** Marathon's --max_running_deployments default; one more is answered 403. */
export const defaultMaxRunningDeployments = 100;
/** Apps one deployment may change (its KV record stays under 64 KiB). */
export const maxAppsPerDeployment = 250;
/** Marathon's --local_port_min/--local_port_max: where service ports are assigned. */
export const servicePortMin = 10_000;
export const servicePortMax = 20_000;
/** Instances launched from one offer at most (Marathon's --max_instances_per_offer is smaller). */
export const maxLaunchesPerOffer = 200;
/** Last unused offers kept per app for /v2/queue (one per agent, as Marathon keeps them). */
export const maxLastUnusedOffers = 100;
/** KV writes in flight at once, across keys. */
export const maxConcurrentKvWrites = 32;
/** SSE subscribers on /v2/events at once, and events queued for one before it is dropped. */
export const maxEventSubscribers = 256;
export const maxQueuedEventsPerSubscriber = 10_000;
/** A blank line on an idle /v2/events stream this often (as Marathon's Jetty EventSource did, every 10 s), so
 * clients and proxies with read timeouts keep a quiet stream open. */
export const eventStreamHeartbeatIntervalMs = 10_000;
/** Constraints, health checks, labels, env entries and port definitions per app. */
export const maxConstraints = 32;
export const maxHealthChecks = 1;
export const maxLabels = 64;
export const maxEnvironmentVariables = 256;
export const maxPortDefinitions = 64;
/** Marathon's --decline_offer_duration (ms): offers with nothing to launch are refused this long. */
export const declineOfferDurationSeconds = 120;
/** Offers refused while some app waits to be placed: short, so a change elsewhere is seen soon. */
export const declineWhileWaitingSeconds = 1;
/** Marathon's --failover_timeout default: a week. */
export const frameworkFailoverTimeoutSeconds = 604_800;
/** Lease defaults: held for ttl, renewed every ttl/3; a standby takes over after ttl of silence. */
export const defaultLeaseTtlMs = 10_000;
/** Marathon's --task_launch_timeout default: an instance not running after this long is killed. */
export const defaultTaskLaunchTimeoutMs = 300_000;
/** A launch with no status update after this long is reconciled (Marathon: --task_launch_confirm_timeout). */
export const launchConfirmTimeoutMs = 30_000;
/** How often an app offered nothing while it waits is checked against its role's quota. */
export const quotaCheckIntervalMs = 5_000;
/** Explicit reconciliation of every known task (Marathon's --reconciliation_interval is 10 min). */
export const reconciliationIntervalMs = 300_000;
/** Changes that ask for a converge within this window share one pass. */
export const convergeBatchMs = 20;
/** The converge loop also runs on this timer, for back-off and unreachable deadlines. */
export const convergeIntervalMs = 1_000;
/** A request forwarded to the leading instance: its answer's headers within this, a whole answer within the next. */
export const forwardHeadersTimeoutMs = 10_000;
export const forwardAnswerTimeoutMs = 30_000;
