/** Reads of one shard that need more than one command: list and stats, each one script. */
import { LuaScript } from '../link.js';

/**
 * list: ARGV[3] state ('' any), [4] name ('' any), [5] limit, [6] scan cap, [7] below this id
 * ('' any). Running tasks come from the owners' run sets (exact, whatever is pending); the
 * others from walking the id
 * indexes from the highest id down, keeping rows that match. Reply: one flat HGETALL per row
 * prefixed by its id and field count, for each index in turn (merged by id in TS).
 */
export const LIST = new LuaScript('list', `#!lua flags=no-writes

local state, name, limit, cap = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local top = '+inf'
if ARGV[7] ~= '' then top = '(' .. ARGV[7] end
local indexes
if state == '' then indexes = { 'live', 'succeeded', 'failed', 'cancelled' }
elseif state == 'scheduled' or state == 'running' then indexes = { 'live' }
else indexes = { state } end
local out = {}
local function keep(id)
  local row = redis.call('HGETALL', P .. 't:' .. id)
  if #row == 0 then return false end
  if state ~= '' or name ~= '' then
    local s, n = 'scheduled', nil
    for i = 1, #row, 2 do
      if row[i] == 's' then s = row[i + 1] elseif row[i] == 'n' then n = row[i + 1] end
    end
    if not ((state == '' or s == state) and (name == '' or n == name)) then return false end
  end
  out[#out + 1] = id
  out[#out + 1] = #row
  for i = 1, #row do out[#out + 1] = row[i] end
  return true
end
if state == 'running' then
  -- Running tasks are few (what daemons hold) and all in the owners' run sets: exact, no scan.
  local ids = {}
  for _, owner in ipairs(redis.call('SMEMBERS', P .. 'ro')) do
    for _, id in ipairs(redis.call('SMEMBERS', P .. 'run:' .. owner)) do
      if ARGV[7] == '' or tonumber(id) < tonumber(ARGV[7]) then ids[#ids + 1] = tonumber(id) end
    end
  end
  table.sort(ids, function(a, b) return a > b end)
  local found = 0
  for _, id in ipairs(ids) do
    if found >= limit then break end
    if keep(str(id)) then found = found + 1 end
  end
  return out
end
for _, ix in ipairs(indexes) do
  local found, scanned = 0, 0
  if ix == 'live' then
    -- Chunks of 128 seqs, from the highest id (or below beforeId) down.
    local seq = num(redis.call('GET', P .. 'seq')) or 0
    local c = math.floor(seq / 128)
    if ARGV[7] ~= '' then
      local below = math.floor((tonumber(ARGV[7]) - SHARD) / 1024 / 128)
      if below < c then c = below end
    end
    while c >= 0 and found < limit and scanned < cap do
      local ids = redis.call('ZREVRANGEBYSCORE', P .. 'il:' .. str(c), top, '-inf')
      scanned = scanned + 1
      for _, id in ipairs(ids) do
        scanned = scanned + 1
        if keep(id) then found = found + 1 if found >= limit then break end end
      end
      c = c - 1
    end
  else
    local from = 0
    while found < limit and scanned < cap do
      local ids = redis.call('ZREVRANGEBYSCORE', P .. 'ix:' .. ix, top, '-inf', 'LIMIT', from, 200)
      if #ids == 0 then break end
      from = from + #ids
      for _, id in ipairs(ids) do
        scanned = scanned + 1
        if keep(id) then found = found + 1 if found >= limit then break end end
      end
    end
  end
end
return out
`);

/**
 * stats: reply { cursor or '', counts HGETALL, scheduled-by-name HGETALL, slot counts HGETALL,
 * next due ms or '' }. The next due time is the least of the late zsets' heads (names with
 * scheduled tasks), the ring's non-empty slots' heads, and the first bucket's head: at most
 * 3600 + names + 1 O(log n) reads, for a dashboard or the CLI, not a tick.
 */
export const STATS = new LuaScript('stats', `#!lua flags=no-writes

local cur = redis.call('GET', P .. 'cur') or ''
local cnt = redis.call('HGETALL', P .. 'cnt')
local sn = redis.call('HGETALL', P .. 'sn')
local sc = redis.call('HGETALL', P .. 'sc')
local next = nil
local function head(key)
  local r = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if r[2] then
    local v = tonumber(r[2])
    if next == nil or v < next then next = v end
  end
end
for i = 1, #sn, 2 do head(P .. 'l:' .. sn[i]) end
for i = 1, #sc, 2 do if tonumber(sc[i + 1]) > 0 then head(P .. 'w:' .. sc[i]) end end
local first = redis.call('ZRANGE', P .. 'hx', 0, 0)[1]
if first then head(P .. 'h:' .. first) end
return { cur, cnt, sn, sc, next and str(next) or '' }
`);

/**
 * slotLoad of one shard: ARGV[3] from second, [4] to second (at most 7200 apart). Counts
 * scheduled tasks by due second wherever they are: the ring's non-empty slots (ZCOUNT of the
 * window's seconds in them), the window's hour buckets, and the late zsets of names with
 * scheduled tasks. Reply: flat second, count pairs (unsorted, possibly repeated).
 */
export const SLOT_LOAD = new LuaScript('slotLoad', `#!lua flags=no-writes

local from, to = tonumber(ARGV[3]), tonumber(ARGV[4])
local counts = {}
local function add(s, n) counts[s] = (counts[s] or 0) + n end
local function scan(key)
  local r = redis.call('ZRANGEBYSCORE', key, from * 1000, (to + 1) * 1000 - 1, 'WITHSCORES')
  for i = 2, #r, 2 do add(sec(tonumber(r[i])), 1) end
end
local sc = redis.call('HGETALL', P .. 'sc')
for i = 1, #sc, 2 do
  if tonumber(sc[i + 1]) > 0 then
    local slot = tonumber(sc[i])
    local s = from - (from % 3600) + slot
    if s < from then s = s + 3600 end
    while s <= to do
      local n = redis.call('ZCOUNT', P .. 'w:' .. slot, s * 1000, (s + 1) * 1000 - 1)
      if n > 0 then add(s, n) end
      s = s + 3600
    end
  end
end
for c = cyc(from), cyc(to) do scan(P .. 'h:' .. c) end
local sn = redis.call('HGETALL', P .. 'sn')
for i = 1, #sn, 2 do scan(P .. 'l:' .. sn[i]) end
local out = {}
for s, n in pairs(counts) do out[#out + 1] = str(s) out[#out + 1] = n end
return out
`);

/** The newest batches of the shard: ARGV[3] limit. Reply: per batch its id, field count and HGETALL. */
export const RECENT_BATCHES = new LuaScript('recentBatches', `#!lua flags=no-writes

local out = {}
for _, id in ipairs(redis.call('ZREVRANGE', P .. 'bix', 0, tonumber(ARGV[3]) - 1)) do
  local row = redis.call('HGETALL', P .. 'b:' .. id)
  out[#out + 1] = id
  out[#out + 1] = #row
  for i = 1, #row do out[#out + 1] = row[i] end
end
return out
`);
