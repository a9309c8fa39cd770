-- Delete a comment. One with replies stays as a placeholder so the thread keeps
-- its shape; one without leaves the indexes, and so may a placeholder parent
-- that it was the last reply of.
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] roots, KEYS[4] events
-- ARGV: 1 prefix, 2 cid, 3 now ms, 4 events maxlen
--@include lib_unindex
local meta, comments, roots, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix = ARGV[1]
local kids = prefix .. 'kids'
local raw = redis.call('HGET', comments, ARGV[2])
if not raw then
  return {'err', 'comment_not_found'}
end
local doc = cjson.decode(raw)
if doc.status == 'deleted' then
  return {'err', 'comment_deleted'}
end
local count = tonumber(redis.call('HGET', meta, 'count'))
if doc.status == 'approved' then
  count = redis.call('HINCRBY', meta, 'count', -1)
end
doc.status = 'deleted'
doc.deleted = tonumber(ARGV[3])
doc.html = ''
doc.text = ''
local encoded = cjson.encode(doc)
redis.call('HSET', comments, ARGV[2], encoded)

-- Unindex this comment if it has no replies, then any placeholder ancestors left childless.
unindex(doc, comments, roots, kids, prefix)

local seq = redis.call('HINCRBY', meta, 'seq', 1)
redis.call('XADD', events, 'MAXLEN', '~', ARGV[4], seq .. '-1',
  'type', 'comment.deleted', 'doc', encoded, 'count', count)
-- Wake the nodes whose readers follow this thread (the log, not this message, carries the event).
redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
return {'ok', encoded, count}
