-- Replace a comment's body, if it is still there, apply what the spam rules and the site's policy
-- say of the new text, and log the change: all in one atomic step.
-- An approved comment whose new text is held (or is spam) leaves the public thread: the count drops,
-- a pin on it goes, and the log says "comment.hidden" (its author still sees it, as pending).
-- A held or spam comment stays as it was: an edit never publishes anything.
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] events, KEYS[4] likecount
-- ARGV: 1 cid, 2 html, 3 text, 4 edited ms, 5 events maxlen, 6 verdict ("approved"|"pending"|"spam"),
--       7 the verdict's reasons (comma list)
-- Returns {'ok', doc JSON, count, event type}.
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
local kind = 'comment.edited'
local count = tonumber(redis.call('HGET', meta, 'count'))
if doc.status == 'approved' and ARGV[6] ~= 'approved' then
  doc.status = ARGV[6]
  doc.spam_reasons = ARGV[7]
  count = redis.call('HINCRBY', meta, 'count', -1)
  if redis.call('HGET', meta, 'pinned') == ARGV[1] then
    redis.call('HSET', meta, 'pinned', '')
  end
  kind = 'comment.hidden'
elseif doc.status == 'pending' and ARGV[6] == 'spam' then
  doc.status = 'spam'  -- to its author it still looks pending
  doc.spam_reasons = ARGV[7]
end
local encoded = cjson.encode(doc)
redis.call('HSET', comments, ARGV[1], encoded)
local seq = redis.call('HINCRBY', meta, 'seq', 1)
redis.call('XADD', events, 'MAXLEN', '~', ARGV[5], seq .. '-1',
  'type', kind, 'doc', encoded, 'count', count,
  'likes', redis.call('HGET', KEYS[4], ARGV[1]) or 0)
-- Wake the nodes whose readers follow this thread (the log, not this message, carries the event).
redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
return {'ok', encoded, count, kind}
