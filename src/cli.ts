#!/usr/bin/env node
/** The `delayd` executable: all of it is in cli/main.ts. */
import { runCli } from './cli/main.js';

// `delayd list | head -1` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2));
