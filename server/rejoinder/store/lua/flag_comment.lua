-- A reader reports a comment, in one atomic step: the report counted on the comment (how many
-- readers, and for which reasons), and, when the site holds comments at that many reports, the
-- comment held for an admin (as their own "hide" would: the count, an unpinning, an event).
-- One report per reader and per network address: a second identity from the same address does
-- not count again, so a reader cannot report a comment away alone by changing browsers.
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] events, KEYS[4] the comment's reporters (set)
-- ARGV: 1 cid, 2 reader key, 3 reader's address hash, 4 reason, 5 now ms, 6 hold at (0: never),
--       7 events maxlen, 8 seconds the reporters set is kept
local meta, comments, events, reporters = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local raw = redis.call('HGET', comments, ARGV[1])
if not raw then
  return {'err', 'comment_not_found'}
end
local doc = cjson.decode(raw)
if doc.status == 'deleted' then
  return {'err', 'comment_deleted'}
end
if doc.status ~= 'approved' then
  return {'err', 'comment_not_found'}
end
if doc.owner ~= nil and doc.owner ~= '' and doc.owner == ARGV[2] then
  return {'err', 'cannot_report_own'}
end
local who, where = 'id:' .. ARGV[2], 'ip:' .. ARGV[3]
if redis.call('SISMEMBER', reporters, who) == 1 or (ARGV[3] ~= '' and redis.call('SISMEMBER', reporters, where) == 1) then
  return {'already', doc.flags or 0, 0, doc.created}
end
redis.call('SADD', reporters, who)
if ARGV[3] ~= '' then redis.call('SADD', reporters, where) end
redis.call('EXPIRE', reporters, ARGV[8])

doc.flags = (doc.flags or 0) + 1
if type(doc.flag_reasons) ~= 'table' then doc.flag_reasons = {} end
doc.flag_reasons[ARGV[4]] = (doc.flag_reasons[ARGV[4]] or 0) + 1
doc.flagged = tonumber(ARGV[5])
local held = 0
local hold_at = tonumber(ARGV[6])
if hold_at > 0 and doc.flags >= hold_at then
  held = 1
  doc.status = 'pending'
  doc.spam_reasons = ((doc.spam_reasons or '') ~= '' and (doc.spam_reasons .. ',') or '') .. 'reports'
  local count = redis.call('HINCRBY', meta, 'count', -1)
  if redis.call('HGET', meta, 'pinned') == ARGV[1] then
    redis.call('HSET', meta, 'pinned', '')
  end
  local encoded = cjson.encode(doc)
  redis.call('HSET', comments, ARGV[1], encoded)
  local seq = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[7], seq .. '-1', 'type', 'comment.hidden', 'doc', encoded,
    'count', count, 'likes', redis.call('HGET', (string.gsub(KEYS[1], 'meta$', 'likecount')), ARGV[1]) or 0)
  redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
else
  redis.call('HSET', comments, ARGV[1], cjson.encode(doc))
end
return {'ok', doc.flags, held, doc.created}
