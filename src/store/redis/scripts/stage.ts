/**
 * Staged writes on one shard: a call too big for one short script (a map() of 10,000 items, a
 * delayMany of thousands of tasks) is written in chunks into a stage that no read, claim or
 * counter looks at, then committed by one small script, then published in bounded steps.
 *
 *   P sg:<sid>   hash: st open|committed, n items, got staged so far, pd published so far,
 *                fs first item seq (ids are reserved when the stage opens, so item i is
 *                (fs + i) * 1024 + shard, in call order), nw the caller's now (starts a cursor),
 *                bi the batch id once a batch is committed, co the shard holding the call's
 *                decision when the call spans shards (scripts/decision.ts)
 *   P sgi:<sid>  list: w values per item, popped from the head as items are published. w 1
 *                (every item of the call has the same name, created and options, and no key:
 *                those are in sg once, as cn cc cr cb ct): "<due>|<args>"; w 2: that and the key
 *                tag; w 8: name, args, due, created, key tag, retries, backoff, timeout
 *   P sgs        zset: sid -> server ms of the stage's last step (upkeep finds stale stages)
 *   P sr:<sid>   hash: item index -> "id,due" of keyed items that met an existing key at
 *                publish (created false); kept an hour after the stage is done
 *
 * The commit is the decision: before it, nothing of the call is visible and upkeep deletes a
 * stage older than its TTL; after it, everything will be visible, and anyone (the producer,
 * upkeep) publishes the rest. Keys are claimed only at publish (after the commit), so a
 * concurrent insert of the same key is never told "exists" for a task a rollback could delete.
 * Publishing runs with allow-oom: a committed stage already holds its items' memory, and a
 * full Redis must not leave a call half visible for good.
 */
import { LuaScript } from '../link.js';
import { LIB } from './lib.js';

/** Lua shared by the stage scripts (after LIB). */
const STAGE_LIB = `
local function serverMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function dropStage(sid)
  redis.call('UNLINK', P .. 'sg:' .. sid, P .. 'sgi:' .. sid)
  redis.call('ZREM', P .. 'sgs', sid)
end
`;

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
local bulkN = { slot = {}, name = {}, ring = 0, later = 0, all = 0 }
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
  n.all = n.all + 1
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
  if n.all > 0 then bump('cnt', 'scheduled', n.all) end
  bulkN = { slot = {}, name = {}, ring = 0, later = 0, all = 0 }
  flush()
end
`;

/**
 * ARGV[3] sid, [4] from (index of this chunk's first item), [5] total items, [6] extra ids to
 * reserve before the items (1 for a batch: its own id), [7] id floor (seq), [8] the caller's
 * now ms, [9] batch key ('' or 'v'..key), [10] the decision's shard ('' : this stage decides),
 * [11] count, [12] w (values per item, see sgi), [13]-[17] for w 1 and 2 the items' name,
 * created, retries, backoff, timeout ('' null), then w values per item.
 * The first chunk (from 0) opens the stage; a chunk sent again (a retry) is not appended twice.
 * Reply { first item seq, last reserved seq } or, when a batch with that key is unfinished,
 * { -1, its id, its total }, or { -2, items staged } for a chunk that came before the one ahead
 * of it (chunks are sent without waiting; that one was lost and sent again): nothing done.
 */
export const STAGE_PUT = new LuaScript('stagePut', `${LIB}${STAGE_LIB}
local sid, from, total = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local sg = P .. 'sg:' .. sid
local count = tonumber(ARGV[11])
if from == 0 and redis.call('EXISTS', sg) == 0 then
  local bkey = tagged(ARGV[9])
  if bkey then
    local existing = redis.call('GET', P .. 'bk:' .. bkey)
    if existing then return { -1, tonumber(existing), tonumber(redis.call('HGET', P .. 'b:' .. existing, 'tt')) } end
  end
  local extra = tonumber(ARGV[6])
  local first = reserve(total + extra, tonumber(ARGV[7])) + extra
  redis.call('HSET', sg, 'st', 'open', 'n', total, 'got', 0, 'pd', 0, 'fs', first, 'nw', ARGV[8], 'w', ARGV[12])
  if ARGV[12] ~= '8' then redis.call('HSET', sg, 'cn', ARGV[13], 'cc', ARGV[14], 'cr', ARGV[15], 'cb', ARGV[16], 'ct', ARGV[17]) end
  if ARGV[10] ~= '' then redis.call('HSET', sg, 'co', ARGV[10]) end
end
local m = redis.call('HMGET', sg, 'st', 'got', 'fs', 'n')
if not m[1] then return redis.error_reply('E_BACKEND_UNAVAILABLE The staged write ' .. sid .. ' is gone (it stayed uncommitted past its TTL and was deleted): nothing of it was written') end
if m[1] ~= 'open' then return redis.error_reply('E_BAD_STATE The staged write ' .. sid .. ' is already committed') end
local got, fs = tonumber(m[2]), tonumber(m[3])
if from > got then return { -2, got } end
if from == got then
  local li = P .. 'sgi:' .. sid
  local values = count * tonumber(ARGV[12])
  for i = 0, values - 1, 4000 do redis.call('RPUSH', li, unpack(ARGV, 18 + i, 17 + math.min(i + 4000, values))) end
  redis.call('HSET', sg, 'got', got + count)
end
redis.call('ZADD', P .. 'sgs', serverMs(), sid)
return { fs, fs + tonumber(m[4]) - 1 }
`);

/**
 * Commits a fully staged write: ARGV[3] sid, [4] kind ('t' tasks, 'b' batch), then for a batch
 * [5] name, [6] key ('' or 'v'..key), [7] created, [8] due, [9] reduce name ('' none), [10]
 * retries, [11] backoff, [12] timeout; last a request id and its TTL s. Writes the batch row
 * (its items come with the publish steps). Reply: tasks { 1 }; batch { id, total, created 1/0 }
 * (0: an unfinished batch with that key appeared meanwhile; the stage is dropped).
 */
export const STAGE_COMMIT = new LuaScript('stageCommit', `${LIB}${STAGE_LIB}
local rq, ttl = ARGV[#ARGV - 1], ARGV[#ARGV]
local seen = seenReply(rq)
if seen then return seen end
local sid, kind = ARGV[3], ARGV[4]
local sg = P .. 'sg:' .. sid
local m = redis.call('HMGET', sg, 'st', 'got', 'n', 'fs', 'nw')
if not m[1] then return redis.error_reply('E_BACKEND_UNAVAILABLE The staged write ' .. sid .. ' is gone (it stayed uncommitted past its TTL and was deleted): nothing of it was written') end
if m[1] ~= 'open' then return redis.error_reply('E_BAD_STATE The staged write ' .. sid .. ' is already committed') end
if m[2] ~= m[3] then return redis.error_reply('E_BAD_STATE The staged write ' .. sid .. ' has ' .. m[2] .. ' of its ' .. m[3] .. ' items') end
local out = { 1 }
if kind == 'b' then
  local n, first = tonumber(m[3]), tonumber(m[4])
  local name, key, created = ARGV[5], tagged(ARGV[6]), tonumber(ARGV[7])
  if key then
    local existing = redis.call('GET', P .. 'bk:' .. key)
    if existing then
      dropStage(sid)
      out = { tonumber(existing), tonumber(redis.call('HGET', P .. 'b:' .. existing, 'tt')), 0 }
      rememberReply(rq, ttl, out)
      return out
    end
  end
  local bid = idOf(first - 1)
  initRing(tonumber(m[5]))
  writeBatch(bid, name, n, created, first, key, opt(ARGV[9]), ARGV[10], ARGV[11], ARGV[12])
  redis.call('HSET', sg, 'bi', bid)
  out = { tonumber(bid), n, 1 }
end
redis.call('HSET', sg, 'st', 'committed')
redis.call('ZADD', P .. 'sgs', serverMs(), sid)
rememberReply(rq, ttl, out)
return out
`);

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
${LIB}${STAGE_LIB}${BULK_LIB}
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

/** Drops an uncommitted stage (the producer gave up): ARGV[3] sid. Reply 1 dropped, 0 committed (kept), -1 gone. */
export const STAGE_DROP = new LuaScript('stageDrop', `${LIB}${STAGE_LIB}
local st = redis.call('HGET', P .. 'sg:' .. ARGV[3], 'st')
if st == 'committed' then return 0 end
dropStage(ARGV[3])
if st then return 1 end
return -1
`);

/**
 * Upkeep: up to ARGV[4] stages whose last step is older than ARGV[3] ms (server time).
 * Uncommitted ones of a one-shard call are deleted (their producer is gone: nothing of them was
 * ever visible); committed ones are returned for the caller to publish, and uncommitted ones of
 * a call over several shards with their decision's shard, for the caller to ask it.
 * Reply { dropped, then per stage: sid, '' (publish) or the decision's shard }.
 */
export const STAGE_SWEEP = new LuaScript('stageSweep', `${LIB}${STAGE_LIB}
local stale = redis.call('ZRANGEBYSCORE', P .. 'sgs', '-inf', serverMs() - tonumber(ARGV[3]), 'LIMIT', 0, tonumber(ARGV[4]))
local out = { 0 }
for _, sid in ipairs(stale) do
  local m = redis.call('HMGET', P .. 'sg:' .. sid, 'st', 'co')
  if m[1] == 'committed' then out[#out + 1] = sid out[#out + 1] = ''
  elseif m[1] and m[2] then out[#out + 1] = sid out[#out + 1] = m[2]
  else
    dropStage(sid)
    if m[1] then out[1] = out[1] + 1 end
  end
end
return out
`);
