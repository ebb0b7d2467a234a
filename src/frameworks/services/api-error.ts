// Marathon's error answers (error.raml, traits.raml): `{"message"}`, with `details` for a
// definition that fails validation and `deployments` when a deployment locks an app. These
// routes answer Marathon's shape, not Flotilla's {"error":{code,message}} (README, "Services").
import type { ValidationDetail } from './validation.ts';

export class MarathonApiError extends Error {
  override name = 'MarathonApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { message: this.message, ...this.extra };
  }
}

export const marathonErrors = {
  appNotFound: (id: string) => new MarathonApiError(404, `App '${id}' does not exist`),
  appExists: (id: string) => new MarathonApiError(409, `An app with id [${id}] already exists.`),
  groupNotFound: (id: string) => new MarathonApiError(404, `Group '${id}' does not exist`),
  deploymentNotFound: (id: string) => new MarathonApiError(404, `DeploymentPlan ${id} does not exist`),
  taskNotFound: (id: string) => new MarathonApiError(404, `Task '${id}' does not exist`),
  locked: (deploymentIds: readonly string[]) =>
    new MarathonApiError(
      409,
      `App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/${deploymentIds[0]}'.`,
      { deployments: deploymentIds.map((id) => ({ id })) },
    ),
  tooManyDeployments: (max: number) =>
    new MarathonApiError(
      403,
      `Max number of concurrent ${max} deployment is reached. Wait until others are finished or use '?force=true' to cancel an existing deployment.`,
    ),
  invalid: (details: readonly ValidationDetail[], typeError: boolean) =>
    new MarathonApiError(422, typeError ? 'Invalid JSON' : 'Object is not valid', { details }),
  badRequest: (message: string) => new MarathonApiError(400, message),
  notLeading: () => new MarathonApiError(503, 'Leader is not available; retry shortly'),
} as const;
