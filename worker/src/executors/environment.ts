/**
 * The environment scripts inherit from the worker, on every executor: the worker's own, minus anything that looks
 * like a secret (the worker token, database or Redis passwords). A script is the lab's code; it has no business
 * with the coordinator's credentials, and a cluster controller would keep them in its state files.
 */
export const SECRET_ENV_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE_KEY|API_KEY/i;

export function scriptEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !SECRET_ENV_NAME.test(name)));
}
