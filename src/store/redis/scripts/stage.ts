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

/** Lua shared by the stage scripts (after LIB). */
export const STAGE_LIB = `
local function dropStage(sid)
  redis.call('UNLINK', P .. 'sg:' .. sid, P .. 'sgi:' .. sid)
  redis.call('ZREM', P .. 'sgs', sid)
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
export const STAGE_PUT = new LuaScript('stagePut', `${STAGE_LIB}
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
export const STAGE_COMMIT = new LuaScript('stageCommit', `${STAGE_LIB}
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

/** Drops an uncommitted stage (the producer gave up): ARGV[3] sid. Reply 1 dropped, 0 committed (kept), -1 gone. */
export const STAGE_DROP = new LuaScript('stageDrop', `#!lua flags=allow-oom
${STAGE_LIB}
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
export const STAGE_SWEEP = new LuaScript('stageSweep', `#!lua flags=allow-oom
${STAGE_LIB}
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
