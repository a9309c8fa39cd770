-- Put back one thread's keys from a backup, all or nothing, replacing what is there.
-- KEYS[1] meta (for slot routing); ARGV: prefix, then (key suffix, payload, ttl ms) triples.
-- Every key must carry the prefix: a backup file cannot write outside its thread.
local prefix = ARGV[1]
for i = 2, #ARGV, 3 do
  if string.sub(ARGV[i], 1, #prefix) ~= prefix then
    return redis.error_reply('key outside the thread: ' .. ARGV[i])
  end
end
local existing = redis.call('EXISTS', KEYS[1])
for i = 2, #ARGV, 3 do
  redis.call('RESTORE', ARGV[i], ARGV[i + 2], ARGV[i + 1], 'REPLACE')
end
return existing
