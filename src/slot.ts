/**
 * Pure integer-second math of the hashed timing wheel. A task due at unix second t sits in slot
 * `t % 3600` of cycle `floor(t / 3600)`. Because t = cycle * 3600 + slot, ordering by
 * (cycle, slot) is ordering by due second: the wheel's index is also the due-time order.
 */
export const SLOTS = 3600;

export interface WheelPosition {
  readonly slot: number;
  readonly cycle: number;
}

export function secondOf(ms: number): number {
  return Math.floor(ms / 1000);
}

export function positionOf(second: number): WheelPosition {
  return { slot: mod(second, SLOTS), cycle: Math.floor(second / SLOTS) };
}

export function positionOfMs(ms: number): WheelPosition {
  return positionOf(secondOf(ms));
}

export function secondAt(position: WheelPosition): number {
  return position.cycle * SLOTS + position.slot;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
