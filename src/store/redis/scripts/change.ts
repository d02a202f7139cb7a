/**
 * The admin changes of one task, each one script: cancel (scheduled -> cancelled), reschedule
 * (scheduled, new due time), retry (failed -> scheduled, one more attempt). ARGV[3] id,
 * [4] time ms (finished, or the new due). Reply: the task hash after the change (HGETALL), or
 * an E_NOT_FOUND / E_BAD_STATE error reply, with nothing changed.
 */
import { LuaScript } from '../link.js';

const GUARD = (verb: string, from: string) => `
local id, ms = ARGV[3], tonumber(ARGV[4])
local t = P .. 't:' .. id
local f = redis.call('HMGET', t, 'n', 's', 'd', 'k', 't')
if not f[1] then return redis.error_reply('E_NOT_FOUND No task with id ' .. id) end
local state = f[2] or 'scheduled'
if state ~= '${from}' then
  return redis.error_reply('E_BAD_STATE Cannot ${verb} task ' .. id .. ': expected it to be ${from}, but it is ' .. state)
end
loadRing()
`;

export const CANCEL = new LuaScript('cancel', `${GUARD('cancel', 'scheduled')}
unplace(id, f[1], tonumber(f[3]))
redis.call('HSET', t, 's', 'cancelled', 'f', ms)
finish(id, 'cancelled', ms)
flush()
return redis.call('HGETALL', t)
`);

export const RESCHEDULE = new LuaScript('reschedule', `${GUARD('reschedule', 'scheduled')}
unplace(id, f[1], tonumber(f[3]))
redis.call('HSET', t, 'd', ms)
place(id, f[1], ms)
flush()
return redis.call('HGETALL', t)
`);

export const RETRY = new LuaScript('retry', `${GUARD('retry', 'failed')}
if f[4] then
  local holder = redis.call('GET', P .. 'k:' .. f[4])
  if holder and holder ~= id then
    return redis.error_reply('E_BAD_STATE Cannot retry task ' .. id .. ': its key ' .. cjson.encode(f[4]) .. ' is held by unfinished task ' .. holder)
  end
  redis.call('SET', P .. 'k:' .. f[4], id)
end
redis.call('HDEL', t, 's', 'w', 'f', 'op', 'x')
redis.call('HSET', t, 'd', ms, 'r', f[5] or '0')
redis.call('ZREM', P .. 'ix:failed', id)
redis.call('ZREM', P .. 'fin', id)
redis.call('ZADD', liveKey(id), id, id)
bump('cnt', 'failed', -1)
place(id, f[1], ms)
local bi = redis.call('HGET', t, 'bi')
if bi and redis.call('EXISTS', P .. 'b:' .. bi) == 1 then redis.call('HINCRBY', P .. 'b:' .. bi, 'lv', 1) end
flush()
return redis.call('HGETALL', t)
`);
