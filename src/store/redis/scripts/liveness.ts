/**
 * Owners. The worker rows live in the queue-wide hash {dq:Q}:workers (one write per beat,
 * whatever the number of running tasks or shards); the tasks an owner holds live per shard in
 * run:<owner>. Burying is two steps: the worker row goes first, in one script that checks the
 * beat the caller observed (WORKER_GONE), then each shard puts the owner's tasks back
 * (PUT_BACK, in bounded chunks). A crash between the two leaves tasks whose owner has no row:
 * orphanOwners() finds them and bury(owner, null) finishes the job.
 */
import { LuaScript } from '../link.js';

/**
 * KEYS[1] the workers hash; ARGV[1] owner, [2] host, [3] pid, [4] names JSON, [5] policies
 * JSON, [6] started ms, [7] at ms. Reply: the beat (1: the row was created).
 */
export const HEARTBEAT = new LuaScript('heartbeat', `
local row = redis.call('HGET', KEYS[1], ARGV[1])
local beat, host, pid, started = 1, ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[6])
if row then
  local old = cjson.decode(row)
  beat, host, pid, started = old.beat + 1, old.host, old.pid, old.startedMs
end
local text = '{"host":' .. cjson.encode(host) .. ',"pid":' .. string.format('%d', pid) .. ',"names":' .. ARGV[4] ..
  ',"policies":' .. ARGV[5] .. ',"startedMs":' .. string.format('%d', started) .. ',"beat":' .. beat .. ',"seenMs":' .. ARGV[7] .. '}'
redis.call('HSET', KEYS[1], ARGV[1], text)
return beat
`);

/** KEYS[1] the workers hash; ARGV[1] owner, [2] the observed beat ('' : no row). Reply 1 if gone now, 0 if it lives. */
export const WORKER_GONE = new LuaScript('workerGone', `#!lua flags=allow-oom
local row = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if row then return 0 end
  return 1
end
if not row or cjson.decode(row).beat ~= tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`);

/**
 * One shard: puts back up to ARGV[4] of owner ARGV[3]'s running tasks at their due time (an
 * open attempt counts as cut off). Reply: { how many, how many are left }.
 */
export const PUT_BACK = new LuaScript('putBack', `
local owner = ARGV[3]
local run = P .. 'run:' .. owner
local ids = redis.call('SPOP', run, tonumber(ARGV[4]))
local count = 0
loadRing()
for _, id in ipairs(ids) do
  local t = P .. 't:' .. id
  local f = redis.call('HMGET', t, 's', 'w', 'op', 'x', 'n', 'd')
  if f[1] == 'running' and f[2] == owner then
    redis.call('HDEL', t, 's', 'w', 'op')
    if f[3] then redis.call('HSET', t, 'x', tonumber(f[4] or '0') + 1) end
    place(id, f[5], tonumber(f[6]))
    bump('cnt', 'running', -1)
    count = count + 1
  end
end
local left = redis.call('SCARD', run)
if left == 0 then redis.call('SREM', P .. 'ro', owner) end
flush()
return { count, left }
`);
