-- Replace a comment's body, if it is still there, and log the edit.
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] events, KEYS[4] likecount
-- ARGV: 1 cid, 2 html, 3 text, 4 edited ms, 5 events maxlen
local meta, comments, events = KEYS[1], KEYS[2], KEYS[3]
local raw = redis.call('HGET', comments, ARGV[1])
if not raw then
  return {'err', 'comment_not_found'}
end
local doc = cjson.decode(raw)
if doc.status == 'deleted' then
  return {'err', 'comment_deleted'}
end
doc.html = ARGV[2]
doc.text = ARGV[3]
doc.edited = tonumber(ARGV[4])
local encoded = cjson.encode(doc)
redis.call('HSET', comments, ARGV[1], encoded)
local seq = redis.call('HINCRBY', meta, 'seq', 1)
redis.call('XADD', events, 'MAXLEN', '~', ARGV[5], seq .. '-1',
  'type', 'comment.edited', 'doc', encoded, 'count', redis.call('HGET', meta, 'count'),
  'likes', redis.call('HGET', KEYS[4], ARGV[1]) or 0)
-- Wake the nodes whose readers follow this thread (the log, not this message, carries the event).
redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
return {'ok', encoded}
