/**
 * purge, in chunks of one shard: ARGV[3] 't' (tasks) or 'b' (batches), [4] finished before ms
 * (exclusive), [5] offset (entries kept by earlier chunks), [6] chunk size. A batch item is
 * kept while its batch's reduce has not run to its end (the reduce reads the items); a batch
 * goes once its reduce (if any) has ended and no item is scheduled or running. Reply:
 * { deleted, examined, kept }.
 */
import { LuaScript } from '../link.js';

export const PURGE = new LuaScript('purge', `#!lua flags=allow-oom

local mode, before, offset, size = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local function live(taskId)
  if not taskId then return false end
  local s = redis.call('HMGET', P .. 't:' .. taskId, 'n', 's')
  return s[1] and (not s[2] or s[2] == 'running')
end
local function reducePending(bid)
  local b = redis.call('HMGET', P .. 'b:' .. bid, 'rn', 'ri', 'lv')
  if not b[1] then return false, b end
  return (not b[2]) or live(b[2]), b
end
local key = (mode == 't') and 'fin' or 'bfin'
local ids = redis.call('ZRANGEBYSCORE', P .. key, '-inf', '(' .. before, 'LIMIT', offset, size)
local deleted, kept = 0, 0
for _, id in ipairs(ids) do
  if mode == 't' then
    local f = redis.call('HMGET', P .. 't:' .. id, 's', 'bi')
    local keep = false
    if f[2] and redis.call('EXISTS', P .. 'b:' .. f[2]) == 1 then keep = reducePending(f[2]) end
    if keep then
      kept = kept + 1
    else
      redis.call('DEL', P .. 't:' .. id)
      redis.call('ZREM', P .. 'fin', id)
      if f[1] then
        redis.call('ZREM', P .. 'ix:' .. f[1], id)
        bump('cnt', f[1], -1)
        deleted = deleted + 1
      end
    end
  else
    local pending, b = reducePending(id)
    local exists = redis.call('EXISTS', P .. 'b:' .. id) == 1
    if exists and (pending or tonumber(b[3] or '0') > 0) then
      kept = kept + 1
    else
      local k = redis.call('HGET', P .. 'b:' .. id, 'k')
      if k and redis.call('GET', P .. 'bk:' .. k) == id then redis.call('DEL', P .. 'bk:' .. k) end
      redis.call('DEL', P .. 'b:' .. id, P .. 'bd:' .. id, P .. 'bo:' .. id)
      redis.call('ZREM', P .. 'bfin', id)
      redis.call('ZREM', P .. 'bix', id)
    end
  end
end
flush()
return { deleted, #ids, kept }
`);
