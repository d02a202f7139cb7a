/**
 * record: outcomes of attempts on one shard, in order, each behind its fence (types.ts).
 * ARGV[3] count, then per outcome 9 values: kind (s, ok, f, r), id, owner, attempt, atMs,
 * payload (s: the cron follower as JSON {n,a,d,c,k,r,b,o} or ''; ok: the result, '' null or
 * 'v'..json; r: the new due ms), the attempt error as JSON (f, r), the last error text, and
 * its code ('' null or 'v'..code).
 * Reply: { earliest due ms scheduled (-1: none), then 1/0 per outcome }.
 */
import { LuaScript } from '../link.js';
import { LIB } from './lib.js';

export const RECORD = new LuaScript('record', `${LIB}
local function nn(v) if v == nil or v == cjson.null then return nil end return str(v) end
-- The follower of a cron occurrence ('started'.next in types.ts): its due ms, or nil.
local function follow(id, name, key, due, nx)
  if nx.n ~= name or key ~= 'cron:' .. name .. ':' .. str(due) then return nil end
  local rec = P .. 'cr:' .. name
  if redis.call('EXISTS', rec) == 1 then
    redis.call('HSET', rec, 'l', id)
    if redis.call('HEXISTS', rec, 'rm') == 1 then return nil end
  end
  if redis.call('ZCARD', P .. 'hd:' .. name) > 0 then return nil end
  if redis.call('EXISTS', P .. 'k:' .. nx.k) == 1 then return nil end
  loadRing()
  local nid = idOf(reserve(1, nil))
  newTask(nid, nx.n, nx.a, nx.d, str(nx.c), nx.k, nn(nx.r), nn(nx.b), nn(nx.o), nil, nil)
  return nx.d
end
local n = tonumber(ARGV[3])
local applied = {}
local earliest = nil
for i = 0, n - 1 do
  local j = 4 + i * 9
  local kind, id, owner, attempt, atMs = ARGV[j], ARGV[j + 1], ARGV[j + 2], tonumber(ARGV[j + 3]), ARGV[j + 4]
  local t = P .. 't:' .. id
  local f = redis.call('HMGET', t, 's', 'w', 't', 'op', 'n', 'er', 'k', 'd', 'bi', 'bx')
  local tries = tonumber(f[3] or '0')
  local ok = 0
  if f[1] == 'running' and f[2] == owner then
    if kind == 's' then
      if tries == attempt - 1 and not f[4] then
        redis.call('HSET', t, 't', attempt, 'op', 1, 'sa', atMs)
        ok = 1
        if f[7] and string.sub(f[7], 1, 5) == 'cron:' then redis.call('ZREM', P .. 'hd:' .. f[5], id) end
        if attempt == 1 and ARGV[j + 5] ~= '' then
          local due = follow(id, f[5], f[7], tonumber(f[8]), cjson.decode(ARGV[j + 5]))
          if due and (earliest == nil or due < earliest) then earliest = due end
        end
      end
    elseif tries == attempt and f[4] then
      ok = 1
      dropLater(id, owner)
      bump('cnt', 'running', -1)
      if kind == 'ok' then
        local result = tagged(ARGV[j + 5])
        if result then redis.call('HSET', t, 's', 'succeeded', 'f', atMs, 'rs', result) else redis.call('HSET', t, 's', 'succeeded', 'f', atMs) end
        redis.call('HDEL', t, 'op')
        finishKnown(id, 'succeeded', tonumber(atMs), f[7] or nil, f[5], f[9] or nil, f[10])
      else
        local err = ARGV[j + 6]
        local list = f[6]
        if list then list = string.sub(list, 1, -2) .. ',' .. err .. ']' else list = '[' .. err .. ']' end
        local code = tagged(ARGV[j + 8])
        if code then redis.call('HSET', t, 'le', ARGV[j + 7], 'er', list, 'lc', code) else redis.call('HSET', t, 'le', ARGV[j + 7], 'er', list) redis.call('HDEL', t, 'lc') end
        if kind == 'f' then
          redis.call('HSET', t, 's', 'failed', 'f', atMs)
          redis.call('HDEL', t, 'op')
          finishKnown(id, 'failed', tonumber(atMs), f[7] or nil, f[5], f[9] or nil, f[10])
        else
          local due = tonumber(ARGV[j + 5])
          redis.call('HDEL', t, 's', 'w', 'op')
          redis.call('HSET', t, 'd', due)
          loadRing()
          place(id, f[5], due)
          bump('cnt', 'scheduled', 1)
          if earliest == nil or due < earliest then earliest = due end
        end
      end
    end
  end
  applied[#applied + 1] = ok
end
if reduceDue ~= nil and (earliest == nil or reduceDue < earliest) then earliest = reduceDue end
dropAll()
flush()
local out = { earliest or -1 }
for i = 1, #applied do out[#out + 1] = applied[i] end
return out
`);
