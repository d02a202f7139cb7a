// `npm start`: the origin example end to end, in two steps as in production. First a producer
// (any process that uses the library) writes ten `test` tasks with countdowns of 1 to 10 s to
// ./delayd.db (or $DELAYD_DB) and exits; then `delayd daemon` runs them with the handlers of
// examples/handlers.js until Ctrl-C. Each task is received now, accepted when due, and
// succeeded two seconds later.
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import pretty from 'pino-pretty';
import { defaultRegistry, Scheduler, setDefaultScheduler } from 'delayd';
import { test } from './handlers.js';

// The default scheduler behind bare task(), on ./delayd.db, with readable logs on a terminal.
const logger = process.stdout.isTTY ? pino(pretty({ colorize: true, sync: true })) : pino();
const producer = new Scheduler({ logger, registry: defaultRegistry });
setDefaultScheduler(producer);
for (let i = 0; i < 10; i++) await test.delay([i], randomInt(1, 11)); // countdowns of 1 to 10 s
await producer.close();

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const handlers = fileURLToPath(new URL('./handlers.js', import.meta.url));
const daemon = spawn(process.execPath, [cli, 'daemon', '--handlers', handlers, ...process.argv.slice(2)], { stdio: 'inherit' });

// Ctrl-C reaches the daemon straight from the terminal (same process group); passing it on
// too would count as a second signal and skip the drain. SIGTERM comes to us alone: pass it on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => daemon.kill('SIGTERM'));
daemon.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
