/** Which of an execution's log files to read. GraphQL-only enum (STDOUT ↔ 'stdout'). */
export const LogStream = { Stdout: 'stdout', Stderr: 'stderr' } as const;
export type LogStream = (typeof LogStream)[keyof typeof LogStream];
export const LOG_STREAMS = Object.values(LogStream) as LogStream[];
