/**
 * Lua shared by the scripts: each script is LIB followed by its own body, run with KEYS[1] (any
 * key of the shard, for routing) and ARGV[1] = the shard prefix `{dq:Q:n}:`, ARGV[2] = n. LIB
 * is defined once in the Redis Functions library (functions.ts), and each function calls
 * enter(ARGV) first: P, SHARD and the per-call state below are set afresh there.
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
export const LIB = `
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

-- A new batch's hash, its key and its entry in the batch index (rr, rb, ro: '' for none).
local function writeBatch(bid, name, n, created, first, key, rn, rr, rb, ro)
  local b = { 'HSET', P .. 'b:' .. bid, 'n', name, 'tt', n, 'dn', 0, 'ok', 0, 'lv', n, 'c', created, 'fs', first }
  if key then b[#b + 1] = 'k' b[#b + 1] = key redis.call('SET', P .. 'bk:' .. key, bid) end
  if rn then
    b[#b + 1] = 'rn' b[#b + 1] = rn
    if rr ~= '' then b[#b + 1] = 'rr' b[#b + 1] = rr end
    if rb ~= '' then b[#b + 1] = 'rb' b[#b + 1] = rb end
    if ro ~= '' then b[#b + 1] = 'ro' b[#b + 1] = ro end
  end
  redis.call(unpack(b))
  redis.call('ZADD', P .. 'bix', bid, bid)
end

local reduceDue = nil
-- Marks a batch finished and inserts its reduce task, both at most once.
local function completeBatch(bid, atMs)
  local bk = P .. 'b:' .. bid
  local b = redis.call('HMGET', bk, 'f', 'k', 'rn', 'rr', 'rb', 'ro', 'ri')
  if b[1] then return end
  redis.call('HSET', bk, 'f', atMs)
  redis.call('ZADD', P .. 'bfin', atMs, bid)
  if b[2] and redis.call('GET', P .. 'bk:' .. b[2]) == bid then redis.call('DEL', P .. 'bk:' .. b[2]) end
  if b[3] and not b[7] then
    initRing(atMs)
    local rid = idOf(reserve(1, nil))
    newTask(rid, b[3], '[' .. bid .. ']', atMs, atMs, nil, b[4] or nil, b[5] or nil, b[6] or nil, nil, nil)
    redis.call('HSET', bk, 'ri', rid)
    if reduceDue == nil or atMs < reduceDue then reduceDue = atMs end
  end
end

-- A batch item reached a final state (ok: succeeded): its bits, counters, maybe the reduce.
local function settle(id, ok, atMs)
  local item = redis.call('HMGET', P .. 't:' .. id, 'bi', 'bx')
  if not item[1] then return end
  local bid, bx = item[1], tonumber(item[2])
  local bk = P .. 'b:' .. bid
  if redis.call('EXISTS', bk) == 0 then return end
  redis.call('HINCRBY', bk, 'lv', -1)
  local newOk = ok and 1 or 0
  local oldOk = redis.call('SETBIT', P .. 'bo:' .. bid, bx, newOk)
  if oldOk ~= newOk then redis.call('HINCRBY', bk, 'ok', newOk - oldOk) end
  if redis.call('SETBIT', P .. 'bd:' .. bid, bx, 1) == 0 then
    local done = redis.call('HINCRBY', bk, 'dn', 1)
    if done == tonumber(redis.call('HGET', bk, 'tt')) then completeBatch(bid, atMs) end
  end
end

-- A task leaves scheduled or running for a final state (the caller wrote its fields); key,
-- name, batch and index as read by the caller (finish reads them itself).
local function finishKnown(id, state, atMs, key, name, bi, bx)
  redis.call('ZREM', liveKey(id), id)
  redis.call('ZADD', P .. 'ix:' .. state, id, id)
  redis.call('ZADD', P .. 'fin', atMs, id)
  bump('cnt', state, 1)
  if key then
    if redis.call('GET', P .. 'k:' .. key) == id then redis.call('DEL', P .. 'k:' .. key) end
    if string.sub(key, 1, 5) == 'cron:' then redis.call('ZREM', P .. 'hd:' .. name, id) end
  end
  if bi then settle(id, state == 'succeeded', atMs) end
end
local function finish(id, state, atMs)
  local f = redis.call('HMGET', P .. 't:' .. id, 'k', 'n', 'bi', 'bx')
  finishKnown(id, state, atMs, f[1] or nil, f[2], f[3] or nil, f[4])
end

-- finishKnown for many tasks of one script: the three index writes of each task are kept and
-- sent at the end, one command per key (finishAll), since a script runs one redis.call per
-- write and a group commit finishes dozens of tasks; counters, key, cron head and batch at
-- once. atMs: as sent (a string: a Lua number would be formatted for each call); name: read
-- here only for a cron key (nil: not known).
local later = { live = {}, ix = {}, fin = {} }
local function finishLater(id, state, atMs, key, name, bi)
  local lk = liveKeyOf(id)
  local l = later.live[lk]
  if not l then l = {} later.live[lk] = l end
  l[#l + 1] = id
  local x = later.ix[state]
  if not x then x = {} later.ix[state] = x end
  x[#x + 1] = id
  x[#x + 1] = id
  local fin = later.fin
  fin[#fin + 1] = atMs
  fin[#fin + 1] = id
  bump('cnt', state, 1)
  if key then
    if redis.call('GET', P .. 'k:' .. key) == id then redis.call('DEL', P .. 'k:' .. key) end
    if string.sub(key, 1, 5) == 'cron:' then
      redis.call('ZREM', P .. 'hd:' .. (name or redis.call('HGET', P .. 't:' .. id, 'n')), id)
    end
  end
  if bi then settle(id, state == 'succeeded', tonumber(atMs)) end
end
local function finishAll()
  for lk, ids in pairs(later.live) do
    for i = 1, #ids, 500 do redis.call('ZREM', lk, unpack(ids, i, math.min(i + 499, #ids))) end
  end
  for state, x in pairs(later.ix) do
    for i = 1, #x, 1000 do redis.call('ZADD', P .. 'ix:' .. state, unpack(x, i, math.min(i + 999, #x))) end
  end
  local fin = later.fin
  for i = 1, #fin, 1000 do redis.call('ZADD', P .. 'fin', unpack(fin, i, math.min(i + 999, #fin))) end
  later = { live = {}, ix = {}, fin = {} }
end

local function drop(id, owner)
  redis.call('SREM', P .. 'run:' .. owner, id)
  if redis.call('EXISTS', P .. 'run:' .. owner) == 0 then redis.call('SREM', P .. 'ro', owner) end
end
-- The same for many, one SREM per owner at the end of the script (dropAll).
local drops = {}
local function dropLater(id, owner)
  local d = drops[owner]
  if not d then d = {} drops[owner] = d end
  d[#d + 1] = id
end
local function dropAll()
  for owner, ids in pairs(drops) do
    for i = 1, #ids, 500 do redis.call('SREM', P .. 'run:' .. owner, unpack(ids, i, math.min(i + 499, #ids))) end
    if redis.call('EXISTS', P .. 'run:' .. owner) == 0 then redis.call('SREM', P .. 'ro', owner) end
  end
  drops = {}
end

-- Every call starts here (functions.ts): the shard, and the state a previous call left reset.
local function enter(argv)
  P, SHARD = argv[1], tonumber(argv[2])
  ring = { loaded = false }
  deltas, bucketsSeen, liveKeys, drops = {}, {}, {}, {}
  later = { live = {}, ix = {}, fin = {} }
  reduceDue = nil
end
`;
