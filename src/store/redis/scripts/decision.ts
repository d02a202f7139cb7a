/**
 * The decision of a call staged on several shards (a keyed delayMany whose keys fall on several
 * shards), kept on one of them, the call's first: P sd:<sid> hash st open|committed, at server
 * ms, sh the shards holding a stage sid (comma-separated); P sds zset sid -> at (upkeep).
 *
 * A missing decision means aborted: the producer or upkeep aborts by deleting an open one, so a
 * late commit finds nothing and fails. A committed one is deleted only once no stage of the call
 * is left on any shard, so a stage never outlives a committed decision (upkeep would read a
 * missing one as aborted and drop it).
 */
import { LuaScript } from '../link.js';

/** ARGV[3] sid, [4] the shards, comma-separated. Reply 1. */
export const DECISION_OPEN = new LuaScript('decisionOpen', `
local now = serverMs()
redis.call('HSET', P .. 'sd:' .. ARGV[3], 'st', 'open', 'at', now, 'sh', ARGV[4])
redis.call('ZADD', P .. 'sds', now, ARGV[3])
return 1
`);

/** ARGV[3] sid. Reply 1 committed (now or before), 0 aborted (the decision is gone). */
export const DECISION_COMMIT = new LuaScript('decisionCommit', `
local sd = P .. 'sd:' .. ARGV[3]
local st = redis.call('HGET', sd, 'st')
if not st then return 0 end
if st == 'open' then redis.call('HSET', sd, 'st', 'committed') end
return 1
`);

/** ARGV[3] sid. Aborts an open decision (deletes it). Reply 1 aborted (now or before), 0 committed. Runs when Redis is full (it only deletes). */
export const DECISION_ABORT = new LuaScript('decisionAbort', `#!lua flags=allow-oom

local sd = P .. 'sd:' .. ARGV[3]
local st = redis.call('HGET', sd, 'st')
if st == 'committed' then return 0 end
redis.call('UNLINK', sd)
redis.call('ZREM', P .. 'sds', ARGV[3])
return 1
`);

/** ARGV[3] sid: every stage of the call is gone; the decision goes too. */
export const DECISION_DONE = new LuaScript('decisionDone', `#!lua flags=allow-oom

redis.call('UNLINK', P .. 'sd:' .. ARGV[3])
redis.call('ZREM', P .. 'sds', ARGV[3])
return 1
`);

/**
 * Upkeep: up to ARGV[4] decisions older than ARGV[3] ms. Open ones are aborted (deleted: their
 * producer is gone, and a stage that asks later reads aborted). Reply { aborted, then per
 * committed one: sid, its shards }.
 */
export const DECISION_SWEEP = new LuaScript('decisionSweep', `#!lua flags=allow-oom

local stale = redis.call('ZRANGEBYSCORE', P .. 'sds', '-inf', serverMs() - tonumber(ARGV[3]), 'LIMIT', 0, tonumber(ARGV[4]))
local out = { 0 }
for _, sid in ipairs(stale) do
  local m = redis.call('HMGET', P .. 'sd:' .. sid, 'st', 'sh')
  if m[1] == 'committed' then out[#out + 1] = sid out[#out + 1] = m[2]
  else
    redis.call('UNLINK', P .. 'sd:' .. sid)
    redis.call('ZREM', P .. 'sds', sid)
    if m[1] then out[1] = out[1] + 1 end
  end
end
return out
`);
