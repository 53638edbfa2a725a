/** A mistake in the command line or its environment: exit 2, with a message saying how to fix it. */
export class UsageError extends Error {}
