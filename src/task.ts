/**
 * The registry of handlers and the decorator that fills it: `task()(fn)` gives back a function
 * that still runs `fn` directly, plus `.delay(args, countdown | options)` as in Celery. The
 * same decorator works on class methods (TypeScript 5 standard decorators).
 */
import type { AnyFunction, ArgsOf, Delayable, DelayItem, Scheduled, TaskMethods } from './api.js';
import type { Batch } from './batch.js';
import { scheduleOf } from './cron/options.js';
import type { CronSchedule } from './cron/schedule.js';
import { DelaydError } from './errors.js';
import type { Handler, TaskContext } from './runner.js';
import type { TaskPolicy } from './store/types.js';
import { checkName, checkTaskOptions, type TaskOptions } from './validate.js';

export type { AnyFunction, ArgsOf, Delayable, DelayItem, Scheduled, TaskMethods } from './api.js';

/** What a task needs from the scheduler it belongs to. */
export interface Enqueuer {
  enqueue(name: string, items: readonly DelayItem<unknown>[], defaults: TaskOptions): Promise<Scheduled[]>;
  enqueueBatch(name: string, items: readonly unknown[], options: unknown, defaults: TaskOptions): Promise<Batch>;
}

export interface TaskDefinition {
  name: string;
  handler: Handler;
  options: TaskOptions;
  /** What the options declare of the policy, in ms (policy.ts): what runs the handler's tasks. */
  policy: TaskPolicy;
  /** The schedule of a periodic task (options.cron; src/cron/). */
  cron?: CronSchedule;
}

/** The policy a handler's task() options declare, in milliseconds; undeclared fields are absent. */
export function declaredPolicy(options: TaskOptions): TaskPolicy {
  const policy: TaskPolicy = {};
  if (options.retries !== undefined) policy.retries = options.retries;
  if (options.backoff !== undefined) policy.backoffMs = Math.round(options.backoff * 1000);
  if (options.timeout !== undefined) policy.timeoutMs = options.timeout === null ? null : Math.round(options.timeout * 1000);
  if (options.maxCutOffs !== undefined) policy.maxCutOffs = options.maxCutOffs;
  return policy;
}

export class Registry {
  readonly #tasks = new Map<string, TaskDefinition>();

  register(definition: TaskDefinition): void {
    const existing = this.#tasks.get(definition.name);
    if (existing && existing.handler !== definition.handler) {
      throw new DelaydError('E_DUPLICATE_TASK', `A different handler is already registered as "${definition.name}"`);
    }
    this.#tasks.set(definition.name, definition);
  }

  get(name: string): TaskDefinition | undefined {
    return this.#tasks.get(name);
  }

  /** The declared policy of each registered name that declares one (what a heartbeat publishes). */
  policies(): Record<string, TaskPolicy> {
    const policies: Record<string, TaskPolicy> = {};
    for (const [name, definition] of this.#tasks) if (Object.keys(definition.policy).length > 0) policies[name] = definition.policy;
    return policies;
  }

  names(): string[] {
    return [...this.#tasks.keys()].sort();
  }
}

export type TaskDecorator = <F extends AnyFunction>(fn: F, context?: ClassMethodDecoratorContext) => Delayable<F>;

/** Builds `task(name?, options?)` for one registry and the scheduler that enqueues its tasks. */
export function taskFactory(registry: Registry, enqueuer: () => Enqueuer) {
  return function task(nameOrOptions?: string | TaskOptions, maybeOptions?: TaskOptions): TaskDecorator {
    const explicitName = typeof nameOrOptions === 'string' ? checkName(nameOrOptions) : undefined;
    const options = checkTaskOptions(typeof nameOrOptions === 'object' ? nameOrOptions : maybeOptions);
    return <F extends AnyFunction>(fn: F, context?: ClassMethodDecoratorContext): Delayable<F> => {
      if (typeof fn !== 'function') {
        throw new DelaydError('E_BAD_ARGS', `Expected task() to decorate a function, got ${typeof fn}`);
      }
      const name = explicitName ?? checkName(context ? String(context.name) : fn.name);
      const cron = scheduleOf(options);
      registry.register({ name, handler: fn as Handler, options, policy: declaredPolicy(options), ...(cron ? { cron } : {}) });
      return decorate(fn, name, options, enqueuer);
    };
  };
}

function decorate<F extends AnyFunction>(fn: F, name: string, options: TaskOptions, enqueuer: () => Enqueuer): Delayable<F> {
  const wrapper = function (this: TaskContext, ...args: never[]) {
    return fn.apply(this, args);
  } as F;
  Object.defineProperty(wrapper, 'name', { value: fn.name });
  const methods: TaskMethods<unknown[]> = {
    taskName: name,
    // Not async functions: one promise per call (the store's), not three, on delay()'s hot path.
    delay: (args, when) => {
      try {
        return enqueuer().enqueue(name, [{ args, when }], options).then(first);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    delayMany: async (items, when) =>
      enqueuer().enqueue(name, items.map((item) => (Array.isArray(item) ? { args: item, when } : { when, ...item })), options),
    map: async (items, mapOptions) => enqueuer().enqueueBatch(name, items, mapOptions, options),
  };
  return Object.assign(wrapper, methods) as Delayable<F>;
}

function first(scheduled: Scheduled[]): Scheduled {
  return scheduled[0] as Scheduled;
}

/**
 * TypeScript does not let a decorator change a method's declared type, so a method decorated
 * with `@task()` is typed as the plain method. `asTask(Class.method)` gives it back with its
 * `.delay()` typed; it throws if the method was not decorated.
 */
export function asTask<F extends AnyFunction>(fn: F): Delayable<F> {
  const candidate = fn as Partial<TaskMethods<unknown[]>>;
  if (typeof candidate.delay !== 'function' || typeof candidate.taskName !== 'string') {
    throw new DelaydError('E_BAD_ARGS', `Expected a function decorated with task(), got ${fn?.name || 'an anonymous function'}`);
  }
  return fn as Delayable<F>;
}
