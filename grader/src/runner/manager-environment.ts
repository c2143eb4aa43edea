/** The only variables a manager process gets: enough to run, nothing that names our services or secrets. */
export function managerEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: "/tmp",
    ...(env.TZ ? { TZ: env.TZ } : {}),
  };
}
