/**
 * Crons (issue 14) on the cron's shard (keys.ts shardOfCron): the record cr:<name> (e
 * expression, z zone, g args, m missed, u updated, y synced, rm removed, l last started
 * occurrence), the names of the shard in crs, and the heads in hd:<name> (kept by newTask,
 * the start in record, and finish). Each sync of one cron is one script: of daemons racing at
 * start, the first inserts the head, the others find it.
 */
import { LuaScript } from '../link.js';

const HEADS = `
local function cancelHeads(name, nowMs)
  local count = 0
  for _, id in ipairs(redis.call('ZRANGE', P .. 'hd:' .. name, 0, -1)) do
    local t = P .. 't:' .. id
    local f = redis.call('HMGET', t, 'n', 's', 'd')
    if f[1] and not f[2] then
      unplace(id, f[1], tonumber(f[3]))
      redis.call('HSET', t, 's', 'cancelled', 'f', nowMs)
      finish(id, 'cancelled', nowMs)
      count = count + 1
    end
  end
  return count
end
local function firstHead(name)
  return redis.call('ZRANGE', P .. 'hd:' .. name, 0, 0)[1]
end
`;

/**
 * ARGV[3] name, [4] expression, [5] zone, [6] args, [7] missed, [8] now ms, [9] id floor,
 * then the first occurrence: [10] args, [11] due, [12] created, [13] key, [14..16] retries,
 * backoff, timeout ('' null). Reply { change, cancelled, head id or '', inserted 1/0 }.
 */
export const SYNC_CRON = new LuaScript('syncCron', `${HEADS}
local name, nowMs = ARGV[3], tonumber(ARGV[8])
local rec = P .. 'cr:' .. name
local before = redis.call('HMGET', rec, 'e', 'z', 'g', 'm', 'rm')
local exists = before[1] ~= false
local changed = exists and (before[5] ~= false or before[1] ~= ARGV[4] or before[2] ~= ARGV[5] or before[3] ~= ARGV[6] or before[4] ~= ARGV[7])
initRing(nowMs)
local cancelled = 0
if changed then cancelled = cancelHeads(name, nowMs) end
redis.call('HSET', rec, 'e', ARGV[4], 'z', ARGV[5], 'g', ARGV[6], 'm', ARGV[7], 'y', nowMs)
if not exists or changed then redis.call('HSET', rec, 'u', nowMs) end
redis.call('HDEL', rec, 'rm')
redis.call('SADD', P .. 'crs', name)
local inserted = 0
if not firstHead(name) then
  inserted = 1
  local key = ARGV[13]
  if not redis.call('GET', P .. 'k:' .. key) then
    local seq = reserve(1, tonumber(ARGV[9]))
    newTask(idOf(seq), name, ARGV[10], tonumber(ARGV[11]), ARGV[12], key, opt(ARGV[14]), opt(ARGV[15]), opt(ARGV[16]), nil, nil)
  end
end
flush()
local change = 'unchanged'
if not exists then change = 'created' elseif changed then change = 'changed' end
return { change, cancelled, firstHead(name) or '', inserted }
`);

/** ARGV[3] name, [4] now ms. Reply {} when there is no live record, else { cancelled, head id or '' }. */
export const REMOVE_CRON = new LuaScript('removeCron', `${HEADS}
local name, nowMs = ARGV[3], tonumber(ARGV[4])
local rec = P .. 'cr:' .. name
if redis.call('EXISTS', rec) == 0 or redis.call('HEXISTS', rec, 'rm') == 1 then return {} end
loadRing()
local cancelled = cancelHeads(name, nowMs)
redis.call('HSET', rec, 'rm', nowMs, 'u', nowMs, 'y', nowMs)
flush()
return { cancelled, firstHead(name) or '' }
`);

/** Every record of the shard: per cron 10 values, then its head and its last occurrence (8 values each, '' when none). */
export const CRONS = new LuaScript('crons', `#!lua flags=no-writes
${HEADS}
local out = {}
local function occurrence(id)
  if not id then for _ = 1, 8 do out[#out + 1] = '' end return end
  local f = redis.call('HMGET', P .. 't:' .. id, 'n', 'd', 's', 't', 'sa', 'f', 'lc')
  if not f[1] then for _ = 1, 8 do out[#out + 1] = '' end return end
  out[#out + 1] = 'v'
  out[#out + 1] = id
  out[#out + 1] = f[2]
  out[#out + 1] = f[3] or 'scheduled'
  out[#out + 1] = f[4] or '0'
  out[#out + 1] = f[5] or ''
  out[#out + 1] = f[6] or ''
  out[#out + 1] = f[7] and ('v' .. f[7]) or ''
end
for _, name in ipairs(redis.call('SMEMBERS', P .. 'crs')) do
  local r = redis.call('HMGET', P .. 'cr:' .. name, 'e', 'z', 'g', 'm', 'u', 'y', 'rm', 'l')
  if r[1] then
    out[#out + 1] = name
    for i = 1, 7 do out[#out + 1] = r[i] or '' end
    occurrence(firstHead(name))
    occurrence(r[8] or nil)
  end
end
return out
`);
