/**
 * Lua shared by the scripts, defined once in the Redis Functions library (functions.ts): this
 * core, then where tasks and batches end (lib-ends.ts), then enter(ARGV), which each function
 * calls first (P, SHARD and the per-call state set afresh). A script runs with KEYS[1] (any key
 * of the shard, for routing) and ARGV[1] = the shard prefix `{dq:Q:n}:`, ARGV[2] = n.
 *
 * A task hash t:<id> holds n name, a args, d due ms, c created ms, and only when set: k key,
 * r retries, b backoff ms, o timeout ms, s state (absent: scheduled), t attempts, x cut-offs,
 * op (1: the attempt is open), w owner, sa started, f finished, le/lc last error and its code,
 * er errors (JSON array), rs result, bi/bx batch id and item index. Absent fields keep a
 * pending task small (a listpack hash of ~10 fields).
 *
 * op is only read while the task is running (a final task may keep it). record's start sets it
 * to 1 when the task has neither k nor bi, else to k, b or kb, so that the outcome need not
 * look for them. n, a, d, c are set on every task and never removed, and sa is set with every
 * t: so a hash of 4 fields is a plain task never started (n a d c), and one of 6 holding s and
 * w is a plain task on its first claim (claim and record read fewer fields then).
 *
 * Placement of a scheduled task (place/unplace): due at or behind the cursor -> l:<name>; in a
 * cycle the ring holds (<= jc) -> w:<slot>; later -> h:<cycle>. Counters are summed in Lua and
 * written once per script (flush), so a chunk of 1000 costs one HINCRBY per distinct field.
 */
import { LIB_ENDS } from './lib-ends.js';

const CORE = `
local P, SHARD
local function num(v) if v == false or v == nil then return nil end return tonumber(v) end
local function str(n) return string.format('%d', n) end
local function sec(ms) return math.floor(ms / 1000) end
local function cyc(s) return math.floor(s / 3600) end
-- Redis's clock in ms (TIME), the one time every host agrees on.
local function serverMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function opt(v) if v == '' then return nil end return v end
local function tagged(v) if v == '' then return nil end return string.sub(v, 2) end

-- Request ids: a write whose reply was lost is sent again with the same id; the stored reply
-- (integers, as numbers or their strings, comma-separated) is returned, as numbers, instead of
-- writing twice.
local function seenReply(rq)
  if rq == '' then return nil end
  local seen = redis.call('GET', P .. 'rq:' .. rq)
  if not seen then return nil end
  local out = {}
  for v in string.gmatch(seen, '[^,]+') do out[#out + 1] = tonumber(v) end
  return out
end
local function rememberReply(rq, ttl, out)
  if rq == '' then return end
  local parts = {}
  for i = 1, #out do
    local v = out[i]
    parts[i] = type(v) == 'string' and v or string.format('%d', v)
  end
  redis.call('SET', P .. 'rq:' .. rq, table.concat(parts, ','), 'EX', ttl)
end

local ring = { loaded = false }
local function loadRing()
  if not ring.loaded then
    local v = redis.call('MGET', P .. 'cur', P .. 'jc')
    ring.cur = num(v[1])
    ring.jc = num(v[2])
    ring.loaded = true
  end
end
-- The first write of a shard starts its cursor at the second before the caller's now.
local function initRing(ms)
  loadRing()
  if ring.cur == nil then
    ring.cur = sec(ms) - 1
    ring.jc = cyc(ring.cur) + 1
    redis.call('SET', P .. 'cur', str(ring.cur))
    redis.call('SET', P .. 'jc', str(ring.jc))
  end
end

local deltas = {}
local function bump(hash, field, by)
  local h = deltas[hash]
  if not h then h = {} deltas[hash] = h end
  h[field] = (h[field] or 0) + by
end
-- Numbers go to redis.call as strings made here: Redis formats a Lua number argument with
-- %.17g (printf_fp), several times the cost of string.format('%d').
local function flush()
  for hash, fields in pairs(deltas) do
    for field, by in pairs(fields) do
      if by ~= 0 then
        local v = redis.call('HINCRBY', P .. hash, type(field) == 'number' and str(field) or field, str(by))
        if v <= 0 and hash ~= 'cnt' then redis.call('HDEL', P .. hash, field) end
      end
    end
  end
  deltas = {}
end

local bucketsSeen = {}
local function place(id, name, due)
  local s = sec(due)
  if s <= ring.cur then
    redis.call('ZADD', P .. 'l:' .. name, due, id)
  elseif cyc(s) <= ring.jc then
    local slot = s % 3600
    redis.call('ZADD', P .. 'w:' .. slot, due, id)
    bump('sc', slot, 1)
    bump('cnt', 'rn', 1)
  else
    local c = str(cyc(s))
    redis.call('ZADD', P .. 'h:' .. c, due, id)
    if not bucketsSeen[c] then redis.call('ZADD', P .. 'hx', c, c) bucketsSeen[c] = true end
    bump('cnt', 'ib', 1)
  end
  bump('sn', name, 1)
end

local function unplace(id, name, due)
  if redis.call('ZREM', P .. 'l:' .. name, id) == 1 then bump('sn', name, -1) return true end
  local s = sec(due)
  local slot = s % 3600
  if redis.call('ZREM', P .. 'w:' .. slot, id) == 1 then
    bump('sc', slot, -1) bump('cnt', 'rn', -1) bump('sn', name, -1)
    return true
  end
  local c = cyc(s)
  if redis.call('ZREM', P .. 'h:' .. c, id) == 1 then
    bump('cnt', 'ib', -1) bump('sn', name, -1)
    if redis.call('EXISTS', P .. 'h:' .. c) == 0 then redis.call('ZREM', P .. 'hx', c) end
    return true
  end
  return false
end

-- Reserves n task ids (never below the caller's floor, never reused): the first one's seq.
local function reserve(n, floor)
  local seq = num(redis.call('GET', P .. 'seq')) or 0
  if floor ~= nil and floor > seq then seq = floor end
  redis.call('SET', P .. 'seq', str(seq + n))
  return seq + 1
end
local function idOf(seq) return str(seq * 1024 + SHARD) end
-- The live index (scheduled and running ids, for list) in zsets of 128 consecutive seqs each,
-- small enough for Redis's compact listpack encoding (~20 bytes an entry, not ~90).
local function liveKey(id) return P .. 'il:' .. str(math.floor((tonumber(id) - SHARD) / 1024 / 128)) end
-- The same, remembered per zset (no number formatted for each of many tasks in one call).
local liveKeys = {}
local function liveKeyOf(id)
  local c = math.floor((tonumber(id) - SHARD) / 131072)
  local k = liveKeys[c]
  if not k then k = P .. 'il:' .. str(c) liveKeys[c] = k end
  return k
end

-- A new task's hash, its key and a cron's head (the indexes are the caller's; due a number or its
-- string, which HSET and ZADD take without formatting it again): a plain task
-- (no key, no options, no batch) is one four-field HSET.
local function writeTask(id, name, args, due, created, key, r, b, o, bi, bx)
  if not (key or r or b or o or bi) then
    redis.call('HSET', P .. 't:' .. id, 'n', name, 'a', args, 'd', due, 'c', created)
    return
  end
  local f = { 'HSET', P .. 't:' .. id, 'n', name, 'a', args, 'd', due, 'c', created }
  if key then
    f[#f + 1] = 'k' f[#f + 1] = key
    redis.call('SET', P .. 'k:' .. key, id)
    if string.sub(key, 1, #name + 6) == 'cron:' .. name .. ':' then redis.call('ZADD', P .. 'hd:' .. name, due, id) end
  end
  if r then f[#f + 1] = 'r' f[#f + 1] = r end
  if b then f[#f + 1] = 'b' f[#f + 1] = b end
  if o then f[#f + 1] = 'o' f[#f + 1] = o end
  if bi then f[#f + 1] = 'bi' f[#f + 1] = bi f[#f + 1] = 'bx' f[#f + 1] = bx end
  redis.call(unpack(f))
end

local function newTask(id, name, args, due, created, key, r, b, o, bi, bx)
  writeTask(id, name, args, due, created, key, r, b, o, bi, bx)
  redis.call('ZADD', liveKey(id), id, id)
  place(id, name, due)
end
`;

/** Every call starts here (functions.ts): the shard, and the state a previous call left reset. */
const ENTER = `
local function enter(argv)
  P, SHARD = argv[1], tonumber(argv[2])
  ring = { loaded = false }
  deltas, bucketsSeen, liveKeys, drops = {}, {}, {}, {}
  later = { live = {}, ix = {}, fin = {} }
  reduceDue = nil
end
`;

export const LIB = `${CORE}${LIB_ENDS}${ENTER}`;
