// Errors the CLI prints for a person: a message to act on, and the exit code.

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export function notFound(resource: string, name: string): CliError {
  return new CliError(`Error from server (NotFound): ${resource} "${name}" not found`);
}
