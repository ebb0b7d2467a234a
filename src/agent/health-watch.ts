// Connects a task run to the health checker (src/agent/health/): a change of health becomes a
// TASK_RUNNING status with `healthy`, and the checker's kill request kills the task.
import type { Logger } from '../util/logger.ts';
import { HealthChecker } from './health/checker.ts';
import type { StartHealthCheck } from './task-run.ts';

export function healthCheckStarter(logger: Logger): StartHealthCheck {
  return (check, container, callbacks) => {
    let checker: HealthChecker;
    try {
      checker = new HealthChecker({
        spec: check,
        container,
        logger,
        onEvent: (event) => {
          if (event.kind === 'health_changed') callbacks.onHealthChange(event.healthy);
          else
            callbacks.onUnhealthy(`health check failed ${event.consecutiveFailures} times in a row: ${event.detail}`);
        },
      });
    } catch (error) {
      // The master validated the definition; a check this agent cannot run is logged, not fatal.
      logger.warn({ error: (error as Error).message }, 'health check not started');
      return { stop: () => undefined };
    }
    checker.start();
    return { stop: () => checker.stop() };
  };
}
