/**
 * record: outcomes of attempts on one shard, in order, each behind its fence (types.ts).
 * ARGV[3] count, then the outcomes, each its kind and then id, attempt, atMs and what the kind
 * carries (as few values as the kind needs: most outcomes are a start or a success with no
 * result, 4 values):
 *   s    (started)                      sn  (started, with its cron follower as JSON {n,a,d,c,k,r,b,o})
 *   ok   (succeeded, result null)       okr (succeeded) result
 *   f    (failed) the attempt error as JSON, the last error text, its code ('' null or 'v'..code)
 *   r    (retry) the new due ms, then as f
 * The owner is set by a pseudo-outcome `w <owner>` (not counted) and holds for the outcomes
 * after it: a call's outcomes are nearly always one scheduler's.
 * Reply: { earliest due ms scheduled (-1: none), one character per outcome: 1 applied, 0 not }.
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
local owner = nil
local j = 4
-- Each branch reads only the fields it needs (a hash lookup each) and writes strings as sent.
for i = 1, n do
  local kind = ARGV[j]
  if kind == 'w' then
    owner = ARGV[j + 1]
    j = j + 2
    kind = ARGV[j]
  end
  local id, attemptS, atMs = ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
  local attempt = tonumber(attemptS)
  local t = P .. 't:' .. id
  local ok = '0'
  if kind == 's' or kind == 'sn' then
    local f = redis.call('HMGET', t, 's', 'w', 't', 'op', 'k')
    if f[1] == 'running' and f[2] == owner and tonumber(f[3] or '0') == attempt - 1 and not f[4] then
      redis.call('HSET', t, 't', attemptS, 'op', '1', 'sa', atMs)
      ok = '1'
      local key = f[5]
      -- Only a cron occurrence has a head to drop and (first attempt, with next) a follower.
      if key and string.sub(key, 1, 5) == 'cron:' then
        local nd = redis.call('HMGET', t, 'n', 'd')
        redis.call('ZREM', P .. 'hd:' .. nd[1], id)
        if attempt == 1 and kind == 'sn' then
          local due = follow(id, nd[1], key, tonumber(nd[2]), cjson.decode(ARGV[j + 4]))
          if due and (earliest == nil or due < earliest) then earliest = due end
        end
      end
    end
    if kind == 'sn' then j = j + 5 else j = j + 4 end
  elseif kind == 'ok' or kind == 'okr' then
    local f = redis.call('HMGET', t, 's', 'w', 't', 'op', 'k', 'bi')
    if f[1] == 'running' and f[2] == owner and tonumber(f[3] or '0') == attempt and f[4] then
      ok = '1'
      dropLater(id, owner)
      bump('cnt', 'running', -1)
      if kind == 'okr' then redis.call('HSET', t, 's', 'succeeded', 'f', atMs, 'rs', ARGV[j + 4]) else redis.call('HSET', t, 's', 'succeeded', 'f', atMs) end
      redis.call('HDEL', t, 'op')
      finishLater(id, 'succeeded', atMs, f[5] or nil, nil, f[6] or nil)
    end
    if kind == 'okr' then j = j + 5 else j = j + 4 end
  elseif kind == 'f' or kind == 'r' then
    local f = redis.call('HMGET', t, 's', 'w', 't', 'op', 'k', 'bi', 'er', 'n')
    local e = j + 4
    if kind == 'r' then e = j + 5 end
    if f[1] == 'running' and f[2] == owner and tonumber(f[3] or '0') == attempt and f[4] then
      ok = '1'
      dropLater(id, owner)
      bump('cnt', 'running', -1)
      local list = f[7]
      if list then list = string.sub(list, 1, -2) .. ',' .. ARGV[e] .. ']' else list = '[' .. ARGV[e] .. ']' end
      local last, code = ARGV[e + 1], tagged(ARGV[e + 2])
      if kind == 'f' then
        if code then
          redis.call('HSET', t, 'le', last, 'er', list, 'lc', code, 's', 'failed', 'f', atMs)
          redis.call('HDEL', t, 'op')
        else
          redis.call('HSET', t, 'le', last, 'er', list, 's', 'failed', 'f', atMs)
          redis.call('HDEL', t, 'lc', 'op')
        end
        finishLater(id, 'failed', atMs, f[5] or nil, f[8], f[6] or nil)
      else
        local dueS = ARGV[j + 4]
        local due = tonumber(dueS)
        if code then
          redis.call('HSET', t, 'le', last, 'er', list, 'lc', code, 'd', dueS)
          redis.call('HDEL', t, 's', 'w', 'op')
        else
          redis.call('HSET', t, 'le', last, 'er', list, 'd', dueS)
          redis.call('HDEL', t, 's', 'w', 'op', 'lc')
        end
        loadRing()
        place(id, f[8], due)
        bump('cnt', 'scheduled', 1)
        if earliest == nil or due < earliest then earliest = due end
      end
    end
    j = e + 3
  else
    return redis.error_reply('ERR record: unknown outcome kind ' .. tostring(kind))
  end
  applied[i] = ok
end
if reduceDue ~= nil and (earliest == nil or reduceDue < earliest) then earliest = reduceDue end
finishAll()
dropAll()
flush()
return { earliest or -1, table.concat(applied) }
`);
