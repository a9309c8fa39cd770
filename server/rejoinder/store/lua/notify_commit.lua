-- Advance one consumer's cursor on one thread and queue what the events produced,
-- in one atomic step (every key is in the site's slot): after a crash the events
-- are either read again and nothing was queued, or queued once and not read again.
-- KEYS[1] consumer cursors, KEYS[2] outbox, KEYS[3] batch due, KEYS[4] hook queue
-- ARGV: 1 tid, 2 cursor the caller read from, 3 new cursor, 4 batch key prefix,
--       5 JSON {"mail": [{field: value}], "hooks": [{field: value}], "batch": [[member, due ms, item]]}
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if current ~= tonumber(ARGV[2]) then
  -- Another node advanced it meanwhile (a lease changed hands): what we read is theirs.
  return 0
end
local work = cjson.decode(ARGV[5])
local function xadd(key, fields)
  local args = {}
  for k, v in pairs(fields) do
    args[#args + 1] = k
    args[#args + 1] = v
  end
  redis.call('XADD', key, '*', unpack(args))
end
for _, m in ipairs(work.mail or {}) do xadd(KEYS[2], m) end
for _, h in ipairs(work.hooks or {}) do xadd(KEYS[4], h) end
for _, b in ipairs(work.batch or {}) do
  redis.call('ZADD', KEYS[3], 'NX', b[2], b[1])
  redis.call('RPUSH', ARGV[4] .. b[1], b[3])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
