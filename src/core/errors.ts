/**
 * Machine-readable error codes. comlink carries only an error's name, message and stack across the worker
 * boundary, so the code travels in `name` and the client maps it back once (toStudioError in src/client/diffusionClient.ts).
 */
export const ERROR_CODES = [
  'modelInvalid',
  'capability',
  'inference',
  'deviceLost',
  'aborted',
  'badRequest',
  'protocol',
  'storageFull',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class StudioError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

export function isErrorCode(name: unknown): name is ErrorCode {
  return typeof name === 'string' && (ERROR_CODES as readonly string[]).includes(name);
}
