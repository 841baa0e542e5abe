//! The Lua scripts every change to shared state goes through. Redis runs a
//! script atomically, so each claim, release or publish below is one step
//! no other instance can interleave with, and a room's sequence number is
//! taken in the same step as its `PUBLISH` (delivery order = seq order).
//!
//! Loaded with `SCRIPT LOAD` on each new connection (a restarted Redis has
//! forgotten them) and run with `EVALSHA`. Key layout: `wire.rs`.
//! A single Redis or Valkey server; not Redis Cluster (the reaper touches
//! keys it finds in a set, which Cluster's slot rules forbid).

/// Which script, as an index into [`ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Join,
    Rename,
    Leave,
    Publish,
    Reap,
    Snapshot,
    Ping,
    Release,
}

/// Every script, in [`Script`] order.
pub const ALL: [&str; 8] = [JOIN, RENAME, LEAVE, PUBLISH, REAP, SNAPSHOT, PING, RELEASE];

/// Claim a nickname in a room and announce the join.
/// KEYS: names, here, seq, rooms, holdings. ARGV: room, lowercase nick,
/// nick, instance, channel, session digest (empty: none), its lifetime in
/// ms, the join's time (ms since the epoch). With a session whose earlier name is free again (its instance died
/// and was reaped), that name is claimed instead of the one proposed; one
/// still held (the lease has not lapsed yet) stays remembered for later.
/// Also used to claim again, after an outage, the names of our members: a
/// name we still hold is left as it is (no second join line), a freed one
/// is announced again. Returns `{seq, nick}` (claimed now, as `nick`),
/// `{-1}` (this instance already held it) or `{0}` (another holds it).
const JOIN: &str = r"
local lower, nick = ARGV[2], ARGV[3]
local skey = KEYS[1] .. ':session:' .. ARGV[6]
local remember = ARGV[6] ~= ''
if remember then
  local before = redis.call('GET', skey)
  local tab = before and string.find(before, '\t', 1, true)
  if tab then
    if redis.call('HEXISTS', KEYS[1], string.sub(before, 1, tab - 1)) == 0 then
      lower, nick = string.sub(before, 1, tab - 1), string.sub(before, tab + 1)
    else
      remember = false -- still held (its lease has not lapsed): keep it in mind
    end
  end
end
local cur = redis.call('HGET', KEYS[1], lower)
if cur then
  if string.sub(cur, 1, #ARGV[4] + 1) == ARGV[4] .. '\t' then return {-1} end
  return {0}
end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], lower, ARGV[4] .. '\t' .. nick)
redis.call('ZADD', KEYS[2], seq, lower)
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1] .. '\t' .. lower)
if remember then redis.call('SET', skey, lower .. '\t' .. nick, 'PX', ARGV[7]) end
redis.call('PUBLISH', ARGV[5], seq .. '\t' .. ARGV[4] .. '\t' .. ARGV[8] .. '\tJ\t' .. nick)
return {seq, nick}
";

/// Move a member from one nickname to another, keeping its place in the
/// arrival order, and announce it.
/// KEYS: names, here, seq, holdings. ARGV: room, old lowercase, new
/// lowercase, old nick, new nick, instance, channel, session digest
/// (empty: none), its lifetime in ms, the rename's time (ms).
/// Returns the rename's sequence number, or 0 (the new name is held by
/// someone else).
const RENAME: &str = r"
if ARGV[3] ~= ARGV[2] and redis.call('HEXISTS', KEYS[1], ARGV[3]) == 1 then return 0 end
local place = redis.call('ZSCORE', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('SREM', KEYS[4], ARGV[1] .. '\t' .. ARGV[2])
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[3], ARGV[6] .. '\t' .. ARGV[5])
redis.call('ZADD', KEYS[2], place or seq, ARGV[3])
redis.call('SADD', KEYS[4], ARGV[1] .. '\t' .. ARGV[3])
if ARGV[8] ~= '' then
  redis.call('SET', KEYS[1] .. ':session:' .. ARGV[8], ARGV[3] .. '\t' .. ARGV[5], 'PX', ARGV[9])
end
redis.call('PUBLISH', ARGV[7], seq .. '\t' .. ARGV[6] .. '\t' .. ARGV[10] .. '\tN\t' .. ARGV[4] .. '\t' .. ARGV[5])
return seq
";

/// Free a nickname this instance holds and announce the leave. If the
/// instance no longer holds it (its lease ran out and a reaper already
/// announced the leave), nothing is published: one leave line per member.
/// KEYS: names, here, seq, holdings. ARGV: room, lowercase nick, nick,
/// instance, channel, the leave's time (ms), the publish number's tag
/// (`#N`, see `wire.rs`). Returns the leave's sequence number, or 0 (not
/// ours any more).
const LEAVE: &str = r"
redis.call('SREM', KEYS[4], ARGV[1] .. '\t' .. ARGV[2])
if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[4] .. '\t' .. ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
local seq = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[5], seq .. '\t' .. ARGV[4] .. ARGV[7] .. '\t' .. ARGV[6] .. '\tL\t' .. ARGV[3])
return seq
";

/// Publish an event that claims no name: a chat or `/me` line (kept, with
/// its sequence number, in the room's capped history), a private line, a
/// notice.
/// KEYS: seq, history, rooms. ARGV: room, instance with its publish
/// number's tag (`INSTANCE#N`, see `wire.rs`), the event as it
/// travels (`TIME_MS\tKIND\tFIELDS`, see `wire.rs`), channel, history cap
/// (0: keep none), whether to keep it (`1`) or not (`0`), the lowercase
/// name a teacher removed (empty: none; freed whichever instance holds
/// it, so its holder publishes no leave), the key prefix.
/// Returns the sequence number.
const PUBLISH: &str = r"
if ARGV[7] and ARGV[7] ~= '' then
  local base = ARGV[8] .. 'room:' .. ARGV[1]
  local cur = redis.call('HGET', base .. ':names', ARGV[7])
  if cur then
    redis.call('HDEL', base .. ':names', ARGV[7])
    redis.call('ZREM', base .. ':here', ARGV[7])
    local tab = string.find(cur, '\t', 1, true)
    if tab then
      local holder = string.sub(cur, 1, tab - 1)
      redis.call('SREM', ARGV[8] .. 'instance:' .. holder .. ':members', ARGV[1] .. '\t' .. ARGV[7])
    end
  end
end
local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[4], seq .. '\t' .. ARGV[2] .. '\t' .. ARGV[3])
local cap = tonumber(ARGV[5])
if cap > 0 and ARGV[6] == '1' then
  redis.call('RPUSH', KEYS[2], seq .. '\t' .. ARGV[3])
  redis.call('LTRIM', KEYS[2], -cap, -1)
  redis.call('SADD', KEYS[3], ARGV[1])
end
return seq
";

/// Reap a dead instance: if its lease is gone and it is still listed, take
/// it off the list (the `SREM` is the claim: exactly one reaper gets 1),
/// free every nickname it held and publish each one's leave, as the dead
/// instance would have.
/// KEYS: instances, its lease, its holdings. ARGV: instance, key prefix,
/// the reaper's time (ms), given to each leave.
/// Returns how many members were reaped, or -1 if not reaped by us.
const REAP: &str = r"
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return -1 end
local n = 0
for _, held in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local tab = string.find(held, '\t', 1, true)
  if tab then
    local room = string.sub(held, 1, tab - 1)
    local lower = string.sub(held, tab + 1)
    local base = ARGV[2] .. 'room:' .. room
    local cur = redis.call('HGET', base .. ':names', lower)
    if cur and string.sub(cur, 1, #ARGV[1] + 1) == ARGV[1] .. '\t' then
      local nick = string.sub(cur, #ARGV[1] + 2)
      redis.call('HDEL', base .. ':names', lower)
      redis.call('ZREM', base .. ':here', lower)
      local seq = redis.call('INCR', base .. ':seq')
      redis.call('PUBLISH', base, seq .. '\t' .. ARGV[1] .. '\t' .. ARGV[3] .. '\tL\t' .. nick)
      n = n + 1
    end
  end
end
redis.call('DEL', KEYS[3])
return n
";

/// Rooms' state at one instant: for each room `{name, seq, {holder\tnick,
/// ...} in arrival order, {history entries, `SEQ\tTIME_MS\tKIND\tFIELDS`}}`.
/// KEYS: rooms. ARGV: key prefix, a channel to publish a token on once
/// read (empty: none), that token, then the rooms wanted (none: every room
/// in the set). The token, published in the same atomic step, tells the
/// subscriber which of the events it receives came before the state
/// (those before the token) and which after.
const SNAPSHOT: &str = r"
local rooms = {}
if #ARGV > 3 then
  for i = 4, #ARGV do rooms[#rooms + 1] = ARGV[i] end
else
  rooms = redis.call('SMEMBERS', KEYS[1])
end
local out = {}
for _, room in ipairs(rooms) do
  local base = ARGV[1] .. 'room:' .. room
  local here = {}
  for i, lower in ipairs(redis.call('ZRANGE', base .. ':here', 0, -1)) do
    here[i] = redis.call('HGET', base .. ':names', lower) or ''
  end
  local seq = redis.call('GET', base .. ':seq') or '0'
  table.insert(out, {room, seq, here, redis.call('LRANGE', base .. ':history', 0, -1)})
end
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return out
";

/// Does nothing, answers 1: what leads each publisher pipeline, so a Redis
/// that holds back scripts (a `CLIENT PAUSE`, `WRITE` or `ALL`, or a
/// stopped process) is noticed by its first answer alone.
const PING: &str = "return 1";

/// After an outage, free the names this instance still holds in a room
/// but no member of it has any more (it left, or took another name, while
/// Redis did not answer), and publish each one's leave for the other
/// instances (tagged `#0`: this instance showed it already).
/// KEYS: names, here, seq, holdings. ARGV: room, instance, channel, the
/// time (ms), then the lowercase names our members have. Returns how many
/// were freed.
const RELEASE: &str = r"
local keep = {}
for i = 5, #ARGV do keep[ARGV[i]] = true end
local prefix = ARGV[1] .. '\t'
local n = 0
for _, held in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  if string.sub(held, 1, #prefix) == prefix then
    local lower = string.sub(held, #prefix + 1)
    if not keep[lower] then
      redis.call('SREM', KEYS[4], held)
      local cur = redis.call('HGET', KEYS[1], lower)
      if cur and string.sub(cur, 1, #ARGV[2] + 1) == ARGV[2] .. '\t' then
        local nick = string.sub(cur, #ARGV[2] + 2)
        redis.call('HDEL', KEYS[1], lower)
        redis.call('ZREM', KEYS[2], lower)
        local seq = redis.call('INCR', KEYS[3])
        redis.call('PUBLISH', ARGV[3], seq .. '\t' .. ARGV[2] .. '#0\t' .. ARGV[4] .. '\tL\t' .. nick)
        n = n + 1
      end
    end
  end
end
return n
";
