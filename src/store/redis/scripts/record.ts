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

export const RECORD = new LuaScript('record', `
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
-- Each kind reads only the fields it needs (a hash lookup each) and writes strings as sent.
local owner = nil
local earliest = nil
local function sooner(due) if due and (earliest == nil or due < earliest) then earliest = due end end

-- attemptS: as sent (an integer's canonical text, as t holds it); the fast paths compare text.
local function start(id, t, attemptS, atMs, nextJson)
  if redis.call('HLEN', t) == 6 then
    -- n a d c s w (lib.ts): a plain task's first start, if it is still ours.
    local f = redis.call('HMGET', t, 's', 'w')
    if f[1] ~= 'running' or f[2] ~= owner or attemptS ~= '1' then return '0' end
    redis.call('HSET', t, 't', attemptS, 'op', '1', 'sa', atMs)
    return '1'
  end
  local f = redis.call('HMGET', t, 's', 'w', 't', 'op', 'k', 'bi')
  local attempt = tonumber(attemptS)
  if f[1] ~= 'running' or f[2] ~= owner then return '0' end
  -- The same owner's start of the attempt it opened: written again after a lost answer (types.ts).
  if f[4] then return f[3] == attemptS and '1' or '0' end
  if tonumber(f[3] or '0') ~= attempt - 1 then return '0' end
  local mark = (f[5] and 'k' or '') .. (f[6] and 'b' or '')
  if mark == '' then mark = '1' end
  redis.call('HSET', t, 't', attemptS, 'op', mark, 'sa', atMs)
  local key = f[5]
  -- Only a cron occurrence has a head to drop and (first attempt, with next) a follower.
  if key and string.sub(key, 1, 5) == 'cron:' then
    local nd = redis.call('HMGET', t, 'n', 'd')
    redis.call('ZREM', P .. 'hd:' .. nd[1], id)
    if attempt == 1 and nextJson then sooner(follow(id, nd[1], key, tonumber(nd[2]), cjson.decode(nextJson))) end
  end
  return '1'
end

-- Refused, unless the task ended in this state by this owner's same attempt: the outcome was
-- written before and its answer lost (types.ts), so it applies again and changes nothing.
local function again(f, state, attemptS)
  return (f[1] == state and f[2] == owner and f[3] == attemptS) and '1' or '0'
end
-- A retry clears its owner (as a put-back does): it is known again while the task waits for it
-- at that due time with that attempt's error (as sent, so with its time) last in its list.
local function retriedSo(t, f, attemptS, dueS, errorJson)
  if f[1] or f[3] ~= attemptS or not f[7] or redis.call('HGET', t, 'd') ~= dueS then return '0' end
  local tail = ',' .. errorJson .. ']'
  return (f[7] == '[' .. errorJson .. ']' or string.sub(f[7], -#tail) == tail) and '1' or '0'
end

local function succeed(id, t, attemptS, atMs, result)
  local f = redis.call('HMGET', t, 's', 'w', 't', 'op')
  if f[1] ~= 'running' or f[2] ~= owner or f[3] ~= attemptS or not f[4] then return again(f, 'succeeded', attemptS) end
  dropLater(id, owner)
  bump('cnt', 'running', -1)
  -- op stays (a final task's is never read); its mark says whether there is a key or batch.
  local key, bi = nil, nil
  if f[4] ~= '1' then
    local kb = redis.call('HMGET', t, 'k', 'bi')
    key, bi = kb[1] or nil, kb[2] or nil
  end
  if result then redis.call('HSET', t, 's', 'succeeded', 'f', atMs, 'rs', result) else redis.call('HSET', t, 's', 'succeeded', 'f', atMs) end
  finishLater(id, 'succeeded', atMs, key, nil, bi)
  return '1'
end

-- failed, or retry when dueS is given; e: where the error's three values start in ARGV.
local function fail(id, t, attemptS, atMs, dueS, e)
  local f = redis.call('HMGET', t, 's', 'w', 't', 'op', 'k', 'bi', 'er', 'n')
  if f[1] ~= 'running' or f[2] ~= owner or f[3] ~= attemptS or not f[4] then
    if dueS then return retriedSo(t, f, attemptS, dueS, ARGV[e]) end
    return again(f, 'failed', attemptS)
  end
  dropLater(id, owner)
  bump('cnt', 'running', -1)
  local list = f[7]
  if list then list = string.sub(list, 1, -2) .. ',' .. ARGV[e] .. ']' else list = '[' .. ARGV[e] .. ']' end
  local last, code = ARGV[e + 1], tagged(ARGV[e + 2])
  if not dueS then
    if code then
      redis.call('HSET', t, 'le', last, 'er', list, 'lc', code, 's', 'failed', 'f', atMs)
      redis.call('HDEL', t, 'op')
    else
      redis.call('HSET', t, 'le', last, 'er', list, 's', 'failed', 'f', atMs)
      redis.call('HDEL', t, 'lc', 'op')
    end
    finishLater(id, 'failed', atMs, f[5] or nil, f[8], f[6] or nil)
    return '1'
  end
  if code then
    redis.call('HSET', t, 'le', last, 'er', list, 'lc', code, 'd', dueS)
    redis.call('HDEL', t, 's', 'w', 'op')
  else
    redis.call('HSET', t, 'le', last, 'er', list, 'd', dueS)
    redis.call('HDEL', t, 's', 'w', 'op', 'lc')
  end
  local due = tonumber(dueS)
  loadRing()
  place(id, f[8], due)
  sooner(due)
  return '1'
end

local n = tonumber(ARGV[3])
local applied = {}
local j = 4
for i = 1, n do
  local kind = ARGV[j]
  if kind == 'w' then
    owner = ARGV[j + 1]
    j = j + 2
    kind = ARGV[j]
  end
  local id, attemptS, atMs = ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
  local t = P .. 't:' .. id
  if kind == 's' then applied[i] = start(id, t, attemptS, atMs, nil) j = j + 4
  elseif kind == 'ok' then applied[i] = succeed(id, t, attemptS, atMs, nil) j = j + 4
  elseif kind == 'sn' then applied[i] = start(id, t, attemptS, atMs, ARGV[j + 4]) j = j + 5
  elseif kind == 'okr' then applied[i] = succeed(id, t, attemptS, atMs, ARGV[j + 4]) j = j + 5
  elseif kind == 'f' then applied[i] = fail(id, t, attemptS, atMs, nil, j + 4) j = j + 7
  elseif kind == 'r' then applied[i] = fail(id, t, attemptS, atMs, ARGV[j + 4], j + 5) j = j + 8
  else return redis.error_reply('ERR record: unknown outcome kind ' .. tostring(kind)) end
end
if reduceDue ~= nil and (earliest == nil or reduceDue < earliest) then earliest = reduceDue end
finishAll()
dropAll()
flush()
return { earliest or -1, table.concat(applied) }
`);
