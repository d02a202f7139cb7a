/**
 * claim: hands due tasks of the served names to an owner. ARGV[3] owner, [4] upto second,
 * [5] limit, [6] how far ahead of Redis TIME a claim may reach in ms (-1: trust the caller's
 * clock, for fake-clock tests), [7] budget (entries this call may touch), [8..] names.
 *
 * First the late zsets of the served names (due at or behind the cursor), then the ring from
 * cursor + 1 second by second: a wheel slot's entries due by the end of that second (later
 * cycles sharing the slot have later scores and stay). Entries of names not served move to
 * their late zset, where their own daemon finds them. A claim that walks into a cycle above
 * jc joins that hour's bucket first (bounded); an empty ring is skipped to the next bucket's
 * cycle at once, so a tick with nothing due costs two O(log n) probes plus one per served name,
 * whatever is pending. The cursor moves to the last second emptied, never back; a full claim
 * stops it short of the second it left tasks in. Reply: { cursor, more (1: budget or join
 * stopped the walk before upto), the cursor before this call, then per task id, name, args, due and
 * the rest: '' when attempts and cut-offs are 0 and retries, backoff, timeout and key unset (a
 * task's first claim), else "attempts,cutOffs,retries,backoff,timeout," then '' or 'v'..key
 * (numbers '' when unset) }. The due is the hash's d, as stored (no score read, no number
 * formatted): the score of its entry is the same.
 */
import { LuaScript } from '../link.js';

export const CLAIM = new LuaScript('claim', `
local owner = ARGV[3]
local upto = tonumber(ARGV[4])
local limit = tonumber(ARGV[5])
local ahead = tonumber(ARGV[6])
local budget = tonumber(ARGV[7])
local JOIN, CHUNK = 500, 256
local served, names = {}, {}
for i = 8, #ARGV do
  local nm = ARGV[i]
  if not served[nm] then served[nm] = true names[#names + 1] = nm end
end
if ahead >= 0 then
  local cap = math.floor((serverMs() + ahead) / 1000)
  if upto > cap then upto = cap end
end
loadRing()
if ring.cur == nil then
  ring.cur = upto
  ring.jc = cyc(upto) + 1
  redis.call('SET', P .. 'cur', str(ring.cur))
  redis.call('SET', P .. 'jc', str(ring.jc))
  return { str(ring.cur), 0, str(ring.cur) }
end
local before = ring.cur
if limit <= 0 then return { str(ring.cur), 0, str(before) } end

local taken, touched = {}, 0
local FIELDS = { 'n', 'a', 't', 'x', 'r', 'b', 'o', 's', 'k', 'd' }
-- The task's fields and its hash's key.
local function fields(id)
  local t = P .. 't:' .. id
  -- n a d c (lib.ts): a plain task never started, nothing else to read.
  if redis.call('HLEN', t) == 4 then
    local f = redis.call('HMGET', t, 'n', 'a', 'd')
    return { f[1], f[2], false, false, false, false, false, false, false, f[3] }, t
  end
  return redis.call('HMGET', t, unpack(FIELDS)), t
end
local function take(id, f, t)
  redis.call('HSET', t, 's', 'running', 'w', owner)
  taken[#taken + 1] = { id, f }
  bump('sn', f[1], -1)
end

-- 1. Late tasks of the served names, merged by due time.
local endMs = str((upto + 1) * 1000 - 1)
local cands = {}
if #names == 1 then
  -- One name (the common case): already in due order, no scores needed.
  local nm = names[1]
  local r = redis.call('ZRANGEBYSCORE', P .. 'l:' .. nm, '-inf', endMs, 'LIMIT', 0, limit)
  for i = 1, #r do cands[i] = { r[i], 0, nm } end
else
  for _, nm in ipairs(names) do
    local r = redis.call('ZRANGEBYSCORE', P .. 'l:' .. nm, '-inf', endMs, 'WITHSCORES', 'LIMIT', 0, limit)
    for i = 1, #r, 2 do cands[#cands + 1] = { r[i], tonumber(r[i + 1]), nm } end
  end
  table.sort(cands, function(a, b)
    if a[2] ~= b[2] then return a[2] < b[2] end
    return tonumber(a[1]) < tonumber(b[1])
  end)
end
-- Taken or stale, each leaves its late zset: one ZREM per name at the end of the loop.
local gone = {}
for i = 1, math.min(#cands, limit) do
  local c = cands[i]
  local g = gone[c[3]]
  if not g then g = {} gone[c[3]] = g end
  g[#g + 1] = c[1]
  local f, t = fields(c[1])
  if f[1] and not f[8] then take(c[1], f, t) end
  touched = touched + 1
end
for nm, ids in pairs(gone) do
  for i = 1, #ids, 500 do redis.call('ZREM', P .. 'l:' .. nm, unpack(ids, i, math.min(i + 499, #ids))) end
end

-- 2. The ring.
local rn = tonumber(redis.call('HGET', P .. 'cnt', 'rn') or '0')
local function joinStep(c)
  local key = P .. 'h:' .. c
  local r = redis.call('ZRANGE', key, 0, JOIN - 1, 'WITHSCORES')
  if #r > 0 then
    for i = 1, #r, 2 do
      local due = tonumber(r[i + 1])
      local slot = sec(due) % 3600
      redis.call('ZADD', P .. 'w:' .. slot, due, r[i])
      bump('sc', slot, 1)
    end
    local k = #r / 2
    redis.call('ZREMRANGEBYRANK', key, 0, k - 1)
    bump('cnt', 'rn', k)
    bump('cnt', 'ib', -k)
    rn = rn + k
    touched = touched + k
  end
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', P .. 'hx', c)
    return true
  end
  return false
end
-- Raises jc toward target; false while a bucket is still being joined.
local function growRing(target)
  while ring.jc < target do
    local c = ring.jc + 1
    if not joinStep(c) then return false end
    local jump = target
    local nxt = redis.call('ZRANGE', P .. 'hx', 0, 0)[1]
    if nxt and tonumber(nxt) - 1 < jump then jump = tonumber(nxt) - 1 end
    if jump < c then jump = c end
    ring.jc = jump
    redis.call('SET', P .. 'jc', str(ring.jc))
    if touched >= budget then return ring.jc >= target end
  end
  return true
end

local reached, more, full = ring.cur, 0, #taken >= limit
local s = ring.cur + 1
while s <= upto and not full do
  if touched >= budget then more = 1 break end
  local c = cyc(s)
  if c > ring.jc then
    touched = touched + 1
    if not growRing(c) then more = 1 break end
  elseif rn <= 0 then
    -- An empty ring: nothing is due before the first hour bucket; skip to it (or to upto).
    local nxt = redis.call('ZRANGE', P .. 'hx', 0, 0)[1]
    local last = upto
    if nxt and tonumber(nxt) * 3600 - 1 < last then last = tonumber(nxt) * 3600 - 1 end
    if last < s then last = s end
    if cyc(last) > ring.jc then
      ring.jc = cyc(last)
      redis.call('SET', P .. 'jc', str(ring.jc))
    end
    if last > reached then reached = last end
    s = last + 1
    touched = touched + 1
  else
    local slot = s % 3600
    local key = P .. 'w:' .. slot
    local r = redis.call('ZRANGEBYSCORE', key, '-inf', str((s + 1) * 1000 - 1), 'LIMIT', 0, CHUNK)
    touched = touched + 1
    local removed, stopped = {}, false
    for i = 1, #r do
      local id = r[i]
      local f, t = fields(id)
      if f[1] and not f[8] and served[f[1]] then
        if #taken >= limit then stopped = true break end
        take(id, f, t)
      elseif f[1] and not f[8] then
        redis.call('ZADD', P .. 'l:' .. f[1], f[10], id)
      end
      removed[#removed + 1] = id
      touched = touched + 1
    end
    if #removed > 0 then
      for i = 1, #removed, 500 do redis.call('ZREM', key, unpack(removed, i, math.min(i + 499, #removed))) end
      bump('sc', slot, -#removed)
      bump('cnt', 'rn', -#removed)
      rn = rn - #removed
    end
    if stopped then
      full = true
    elseif #r < CHUNK then
      reached = s
      s = s + 1
    end
    if #taken >= limit then full = true end
  end
end
-- Join the next hour ahead of time, so that the walk seldom waits for a bucket.
if touched < budget then growRing(cyc(reached) + 1) end

local cursor = reached
if full and #taken > 0 then
  local lastDue = 0
  for _, t in ipairs(taken) do
    local due = tonumber(t[2][10])
    if due > lastDue then lastDue = due end
  end
  if sec(lastDue) - 1 < cursor then cursor = sec(lastDue) - 1 end
end
if cursor > ring.cur then
  ring.cur = cursor
  redis.call('SET', P .. 'cur', str(cursor))
end
local out = { str(ring.cur), more, str(before) }
if #taken > 0 then
  local ids = {}
  for i, t in ipairs(taken) do ids[i] = t[1] end
  for i = 1, #ids, 500 do redis.call('SADD', P .. 'run:' .. owner, unpack(ids, i, math.min(i + 499, #ids))) end
  redis.call('SADD', P .. 'ro', owner)
  bump('cnt', 'running', #taken)
  local k = #out
  for _, t in ipairs(taken) do
    local f = t[2]
    out[k + 1] = t[1]
    out[k + 2] = f[1]
    out[k + 3] = f[2]
    out[k + 4] = f[10]
    if f[3] or f[4] or f[5] or f[6] or f[7] or f[9] then
      out[k + 5] = (f[3] or '') .. ',' .. (f[4] or '') .. ',' .. (f[5] or '') .. ',' .. (f[6] or '') .. ',' .. (f[7] or '') .. ',' .. (f[9] and ('v' .. f[9]) or '')
    else
      out[k + 5] = ''
    end
    k = k + 5
  end
end
flush()
return out
`);

/**
 * unclaim: gives back tasks a claim took beyond what the caller could keep (the claim over
 * shards keeps the earliest `limit` of all shards' tasks). ARGV[3] owner, [4] the cursor
 * before the claim, [5..] ids. Each goes
 * back to scheduled exactly as it was (no attempt was opened), placed by its due time, behind
 * the cursor -> its late zset. Reply: how many.
 */
export const UNCLAIM = new LuaScript('unclaim', `
local owner, floor = ARGV[3], tonumber(ARGV[4])
local count = 0
loadRing()
-- The cursor goes back to just before the earliest task given back (never below where the
-- claim found it), so the walk reaches it again in due order.
local back = ring.cur
for i = 5, #ARGV do
  local d = tonumber(redis.call('HGET', P .. 't:' .. ARGV[i], 'd') or '0')
  if sec(d) - 1 < back then back = sec(d) - 1 end
end
if back < floor then back = floor end
if back < ring.cur then
  ring.cur = back
  redis.call('SET', P .. 'cur', str(back))
end
for i = 5, #ARGV do
  local id = ARGV[i]
  local t = P .. 't:' .. id
  local f = redis.call('HMGET', t, 's', 'w', 'op', 'n', 'd')
  if f[1] == 'running' and f[2] == owner and not f[3] then
    redis.call('HDEL', t, 's', 'w')
    place(id, f[4], tonumber(f[5]))
    drop(id, owner)
    count = count + 1
  end
end
bump('cnt', 'running', -count)
flush()
return count
`);
