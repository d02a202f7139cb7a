/**
 * The part of LIB (lib.ts) where tasks and batches end: a batch's hash and its completion with
 * its reduce task, a batch item settling its bits, a task reaching a final state (one by one,
 * or many at once with their index writes sent per key), and an owner's run set losing a task.
 * Lua text only; it uses LIB's core (bump, newTask, initRing, ...) and is placed after it.
 */
export const LIB_ENDS = `
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
`;
