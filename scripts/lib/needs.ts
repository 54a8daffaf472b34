/**
 * Tests that need data from outside the repository (the magnetic-tile dataset in ../shared): skipped on a
 * developer machine without it, FAILED when CI is set, so CI never passes by skipping. Returns whether to skip.
 */
export function missing(present: boolean, what: string): boolean {
  if (present) return false;
  if (process.env['CI']) throw new Error(`CI is set but ${what} is missing`);
  return true;
}
