/** The `default` branch of every message switch: adding a message type breaks the build until it is handled. Dependency-free. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
