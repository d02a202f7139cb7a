/**
 * The publish step of a staged write (layout and rules in stage.ts): up to a step's items of a
 * committed stage become tasks, written as insert writes them, with the index writes of the
 * whole step sent once per key (BULK_LIB).
 */
import { LuaScript } from '../link.js';
import { STAGE_LIB } from './stage.js';

/**
 * New tasks in bulk (after LIB, with the ring loaded): addTask writes a task exactly as LIB's
 * newTask does (the same hash, live index, placement and counters), but keeps its index writes
 * and counters for addAll, which sends one ZADD per key and one HINCRBY per counter field: a
 * script runs one redis.call per write, and a ZADD per index entry was a quarter of a task's cost.
 * due and created are written as the strings they came as (a Lua number would be formatted for
 * each write); key names are made once per script. Returns the due ms and its second.
 */
const BULK_LIB = `
local adds = {}
local function zaddLater(key, score, member)
  local z = adds[key]
  if not z then z = {} adds[key] = z end
  z[#z + 1] = score
  z[#z + 1] = member
end
local liveAt, slotAt, cycleAt, nowAt, liveAdds = {}, {}, {}, {}, {}
local bulkN = { slot = {}, name = {}, ring = 0, later = 0 }
local function addTask(seq, name, args, due, created, key, r, b, o, bi, bx)
  local id = str(seq * 1024 + SHARD)
  writeTask(id, name, args, due, created, key, r, b, o, bi, bx)
  local c = math.floor(seq / 128)
  local live = liveAt[c]
  if not live then
    live = P .. 'il:' .. str(c)
    liveAt[c] = live
    liveAdds[live] = {}
  end
  local l = liveAdds[live]
  l[#l + 1] = id
  local n = bulkN
  local dn = tonumber(due)
  local s = math.floor(dn / 1000)
  if s <= ring.cur then
    local k = nowAt[name]
    if not k then k = P .. 'l:' .. name nowAt[name] = k end
    zaddLater(k, due, id)
  elseif math.floor(s / 3600) <= ring.jc then
    local slot = s % 3600
    local k = slotAt[slot]
    if not k then k = P .. 'w:' .. str(slot) slotAt[slot] = k end
    zaddLater(k, due, id)
    n.slot[slot] = (n.slot[slot] or 0) + 1
    n.ring = n.ring + 1
  else
    local cy = math.floor(s / 3600)
    local k = cycleAt[cy]
    if not k then
      k = P .. 'h:' .. str(cy)
      cycleAt[cy] = k
      redis.call('ZADD', P .. 'hx', cy, cy)
    end
    zaddLater(k, due, id)
    n.later = n.later + 1
  end
  n.name[name] = (n.name[name] or 0) + 1
  return dn, s
end
-- The index writes and counters addTask kept, then LIB's flush.
local function addAll()
  for key, z in pairs(adds) do
    for i = 1, #z, 1000 do redis.call('ZADD', key, unpack(z, i, math.min(i + 999, #z))) end
  end
  adds = {}
  -- Ids come in ascending order: sent highest first, each one goes to the head of the live
  -- index's listpack, where ZADD finds its place at once (lowest first, it walks the whole list).
  for key, ids in pairs(liveAdds) do
    local z = {}
    for i = #ids, 1, -1 do
      z[#z + 1] = ids[i]
      z[#z + 1] = ids[i]
    end
    for i = 1, #z, 1000 do redis.call('ZADD', key, unpack(z, i, math.min(i + 999, #z))) end
  end
  liveAt, liveAdds = {}, {}
  local n = bulkN
  for slot, by in pairs(n.slot) do bump('sc', slot, by) end
  if n.ring > 0 then bump('cnt', 'rn', n.ring) end
  if n.later > 0 then bump('cnt', 'ib', n.later) end
  for name, by in pairs(n.name) do bump('sn', name, by) end
  bulkN = { slot = {}, name = {}, ring = 0, later = 0 }
  flush()
end
`;

/**
 * Publishes up to ARGV[5] items of a committed stage: ARGV[3] sid, [4] the published count the
 * caller expects ('' whatever it is), [6] '1' when the caller read a committed decision on the
 * decision's shard (a stage of a call over several shards is committed by its first step
 * then), then a request id and its TTL s. Each item becomes a task
 * exactly as insert writes it (a keyed item meeting an unfinished task of its key becomes that
 * task, as in insert). Reply { published, total, then per item that met a key: index, id, due };
 * { -1 } when the stage is gone (fully published); { -2, published } when `from` is not where
 * the stage is (someone else published meanwhile: read sr). Runs even when Redis is full.
 */
export const STAGE_PUBLISH = new LuaScript('stagePublish', `#!lua flags=allow-oom
${STAGE_LIB}${BULK_LIB}
local rq, ttl = ARGV[#ARGV - 1], ARGV[#ARGV]
local seen = seenReply(rq)
if seen then return seen end
local sid = ARGV[3]
local sg, li, sr = P .. 'sg:' .. sid, P .. 'sgi:' .. sid, P .. 'sr:' .. sid
local m = redis.call('HMGET', sg, 'st', 'n', 'pd', 'fs', 'bi', 'nw', 'w', 'cn', 'cc', 'cr', 'cb', 'ct')
if not m[1] then return { -1 } end
if m[1] == 'open' and ARGV[6] == '1' then
  if redis.call('HGET', sg, 'got') ~= m[2] then return redis.error_reply('E_BAD_STATE The staged write ' .. sid .. ' is not fully staged') end
  redis.call('HSET', sg, 'st', 'committed')
elseif m[1] ~= 'committed' then return redis.error_reply('E_BAD_STATE The staged write ' .. sid .. ' is not committed') end
local n, pd, fs, bid = tonumber(m[2]), tonumber(m[3]), tonumber(m[4]), m[5] or nil
if ARGV[4] ~= '' and tonumber(ARGV[4]) ~= pd then return { -2, pd } end
local k = math.min(tonumber(ARGV[5]), n - pd)
local w = tonumber(m[7] or '8')
local v = k > 0 and redis.call('LPOP', li, k * w) or {}
initRing(tonumber(m[6]))
local out = { pd + k, n }
local nudge = nil
local cn, cc, cr, cb, ct = m[8], m[9], opt(m[10] or ''), opt(m[11] or ''), opt(m[12] or '')
for i = 0, k - 1 do
  local j = i * w + 1
  local name, args, due, created, key, r, b, o
  if w == 8 then
    name, args, due, created, key = v[j], v[j + 1], v[j + 2], v[j + 3], tagged(v[j + 4])
    r, b, o = opt(v[j + 5]), opt(v[j + 6]), opt(v[j + 7])
  else
    local item = v[j]
    local bar = string.find(item, '|', 1, true)
    name, args, due, created, r, b, o = cn, string.sub(item, bar + 1), string.sub(item, 1, bar - 1), cc, cr, cb, ct
    if w == 2 then key = tagged(v[j + 1]) end
  end
  local index = pd + i
  local existing = key and redis.call('GET', P .. 'k:' .. key)
  if existing then
    local d = tonumber(redis.call('HGET', P .. 't:' .. existing, 'd'))
    redis.call('HSET', sr, index, existing .. ',' .. str(d))
    out[#out + 1] = index
    out[#out + 1] = tonumber(existing)
    out[#out + 1] = d
  else
    local dn, s = addTask(fs + index, name, args, due, created, key, r, b, o, bid, bid and index or nil)
    if s <= ring.cur and (nudge == nil or dn < nudge) then nudge = dn end
  end
end
addAll()
if pd + k >= n then
  dropStage(sid)
  redis.call('EXPIRE', sr, 3600)
else
  redis.call('HSET', sg, 'pd', pd + k)
  redis.call('ZADD', P .. 'sgs', serverMs(), sid)
end
if nudge then redis.call('SPUBLISH', P .. 'nudge', str(nudge)) end
rememberReply(rq, ttl, out)
return out
`);
