/** How values travel to the scripts; the checks before anything is sent are ../checks.ts. */

export { checkOutcomes, checkTime, MAX_TIME_MS } from '../checks.js';

/** '' for null, else 'v' + text: lets a script tell null from the empty string. */
export const tag = (v: string | null): string => (v === null ? '' : `v${v}`);
/** '' for null, else the number. */
export const nul = (v: number | null): string => (v === null ? '' : String(v));
