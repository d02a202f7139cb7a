/**
 * Batches on their home shard: the batch hash b:<id> (n name, tt total, dn done, ok ok, lv
 * items not final, k key, rn/rr/rb/ro the reduce's name and policy, ri its task id, c created,
 * f finished, fs the first item's seq (the batch id is a task id too, from the same counter): item i is task (fs + i) * 1024 + shard, no index
 * needed) and the bitmaps bd:<id>, bo:<id> as plain strings in Redis's bit order, so GETBIT of
 * item i is its bit (see ../bits.ts for the conversion to delayd's chunks).
 */
import { LuaScript } from '../link.js';

/**
 * ARGV[3] floor, [4] name, [5] key ('' or 'v'..key), [6] created, [7] due, [8] reduce name
 * ('' none), [9] retries, [10] backoff, [11] timeout, [12] count, then per item 6 values:
 * args, due, created, retries, backoff, timeout; last a request id and its TTL s (as insert's).
 * Reply { id, total, created 1/0, last seq }.
 */
export const INSERT_BATCH = new LuaScript('insertBatch', `
local rq, ttl = ARGV[#ARGV - 1], ARGV[#ARGV]
local seen = seenReply(rq)
if seen then return seen end
local name, key, created, due = ARGV[4], tagged(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
if key then
  local existing = redis.call('GET', P .. 'bk:' .. key)
  if existing then return { tonumber(existing), tonumber(redis.call('HGET', P .. 'b:' .. existing, 'tt')), 0, 0 } end
end
local n = tonumber(ARGV[12])
initRing(created)
local bid = idOf(reserve(1, tonumber(ARGV[3])))
local first = reserve(n, nil)
writeBatch(bid, name, n, created, first, key, opt(ARGV[8]), ARGV[9], ARGV[10], ARGV[11])
for i = 0, n - 1 do
  local j = 13 + i * 6
  newTask(idOf(first + i), name, ARGV[j], tonumber(ARGV[j + 1]), ARGV[j + 2], nil, opt(ARGV[j + 3]), opt(ARGV[j + 4]), opt(ARGV[j + 5]), bid, i)
end
if n == 0 then completeBatch(bid, due) end
flush()
local out = { tonumber(bid), n, 1, first + n - 1 }
rememberReply(rq, ttl, out)
return out
`);

/** ARGV[3] batch id, [4] from index, [5] limit. Reply: per item index, task id, state, result, last error, code ('' null, else 'v'..). */
export const BATCH_ITEMS = new LuaScript('batchItems', `#!lua flags=no-writes

local b = redis.call('HMGET', P .. 'b:' .. ARGV[3], 'fs', 'tt')
if not b[1] then return {} end
local fs, total, from = tonumber(b[1]), tonumber(b[2]), tonumber(ARGV[4])
local last = math.min(total, from + tonumber(ARGV[5])) - 1
local out = {}
local function tag(v) if v then return 'v' .. v end return '' end
for i = from, last do
  local id = idOf(fs + i)
  local f = redis.call('HMGET', P .. 't:' .. id, 'n', 's', 'rs', 'le', 'lc')
  if f[1] then
    out[#out + 1] = i
    out[#out + 1] = id
    out[#out + 1] = f[2] or 'scheduled'
    out[#out + 1] = tag(f[3])
    out[#out + 1] = tag(f[4])
    out[#out + 1] = tag(f[5])
  end
end
return out
`);

/** ARGV[3] batch id, [4] chunk. Reply { total ('' no batch), done hex, ok hex } of that chunk's bytes (possibly short). */
export const BATCH_CHUNK = new LuaScript('batchChunk', `#!lua flags=no-writes

local total = redis.call('HGET', P .. 'b:' .. ARGV[3], 'tt')
if not total then return { '' } end
local from = tonumber(ARGV[4]) * 512
local function hex(key)
  local raw = redis.call('GETRANGE', key, from, from + 511)
  return (string.gsub(raw, '.', function(c) return string.format('%02x', string.byte(c)) end))
end
return { total, hex(P .. 'bd:' .. ARGV[3]), hex(P .. 'bo:' .. ARGV[3]), redis.call('STRLEN', P .. 'bd:' .. ARGV[3]) }
`);
