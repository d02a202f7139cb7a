/**
 * insert: tasks of one shard, in order. ARGV[3] id floor (seq), [4] request id ('' none),
 * [5] its TTL s, [6] the caller's now ms (starts a new shard's cursor), [7] count, then per
 * task 8 values: name, args, due, created, key ('' or 'v'..key), retries, backoff, timeout ('' null).
 * Reply: { last seq, then per task id, due, created (1/0) }, as strings (a retried call's
 * stored reply comes as numbers). A task due at or behind the
 * cursor is announced on the shard's channel P nudge (SPUBLISH, its due ms). A request id seen before returns
 * the stored reply: a retried insert whose first reply was lost creates nothing twice.
 */
import { LuaScript } from '../link.js';

export const INSERT = new LuaScript('insert', `
local rq = ARGV[4]
local seen = seenReply(rq)
if seen then return seen end
initRing(tonumber(ARGV[6]))
local n = tonumber(ARGV[7])
local floor = tonumber(ARGV[3])
local out = { 0 }
local nudge = nil
local seq = num(redis.call('GET', P .. 'seq')) or 0
if floor > seq then seq = floor end
for i = 0, n - 1 do
  local j = 8 + i * 8
  -- due goes on as the string that came (HSET, ZADD and the reply take it): formatting a Lua
  -- number back into text is a good part of a small script's cost (callgrind).
  local name, args, dueS, created = ARGV[j], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
  local key = tagged(ARGV[j + 4])
  local existing = key and redis.call('GET', P .. 'k:' .. key)
  if existing then
    out[#out + 1] = existing
    out[#out + 1] = redis.call('HGET', P .. 't:' .. existing, 'd')
    out[#out + 1] = '0'
  else
    seq = seq + 1
    local id = idOf(seq)
    newTask(id, name, args, dueS, created, key, opt(ARGV[j + 5]), opt(ARGV[j + 6]), opt(ARGV[j + 7]), nil, nil)
    local due = tonumber(dueS)
    if sec(due) <= ring.cur and (nudge == nil or due < nudge) then nudge = due end
    out[#out + 1] = id
    out[#out + 1] = dueS
    out[#out + 1] = '1'
  end
end
out[1] = str(seq)
redis.call('SET', P .. 'seq', out[1])
flush()
-- Due at or behind the cursor: an idle daemon would wait for its next tick. Tell the shard's
-- subscribers (sharded pub/sub stays on this node), once per call.
if nudge then redis.call('SPUBLISH', P .. 'nudge', str(nudge)) end
rememberReply(rq, ARGV[5], out)
return out
`);
