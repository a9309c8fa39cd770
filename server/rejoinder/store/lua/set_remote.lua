-- The counts of a thread's remote posts (likes, boosts, reposts on Mastodon and Bluesky), and the
-- event that tells open widgets, when they changed.
-- KEYS[1] meta, KEYS[2] events
-- ARGV: 1 the counts (JSON, as the API shows them), 2 events maxlen
-- Returns {'ok'|'same'|'missing'}.
local meta, events = KEYS[1], KEYS[2]
if redis.call('EXISTS', meta) == 0 then
  return {'missing'}
end
if (redis.call('HGET', meta, 'remote') or '') == ARGV[1] then
  return {'same'}
end
redis.call('HSET', meta, 'remote', ARGV[1])
local seq = redis.call('HINCRBY', meta, 'seq', 1)
redis.call('XADD', events, 'MAXLEN', '~', ARGV[2], seq .. '-1', 'type', 'thread.remote', 'remote', ARGV[1])
redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
return {'ok'}
