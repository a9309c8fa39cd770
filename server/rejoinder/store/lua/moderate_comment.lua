-- An admin changes a comment's status in one atomic step: the comment, the
-- thread's count, its indexes (delete and restore) and its event log.
-- Every check runs before the first write, so a refusal leaves nothing behind.
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] roots, KEYS[4] events
-- ARGV: 1 prefix, 2 cid, 3 action (approve|ham|reject|spam|delete|restore|dismiss), 4 now ms, 5 events maxlen
-- "dismiss" clears readers' reports and changes nothing readers see (no event); approving clears them too.
-- Returns {'ok'|'same', doc JSON, count, event type or ''}.
--@include lib_unindex
local meta, comments, roots, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, action = ARGV[1], ARGV[3]
local kids = prefix .. 'kids'
local raw = redis.call('HGET', comments, ARGV[2])
if not raw then
  return {'err', 'comment_not_found'}
end
local doc = cjson.decode(raw)
local old = doc.status
local new
if action == 'dismiss' then
  if not doc.flags then
    return {'same', raw, redis.call('HGET', meta, 'count'), ''}
  end
  doc.flags = nil
  doc.flag_reasons = nil
  doc.moderated = tonumber(ARGV[4])
  local encoded = cjson.encode(doc)
  redis.call('HSET', comments, ARGV[2], encoded)
  return {'ok', encoded, redis.call('HGET', meta, 'count'), 'comment.reports_dismissed'}
end
if action == 'approve' or action == 'ham' then
  new = 'approved'
elseif action == 'reject' then
  new = 'rejected'
elseif action == 'spam' then
  new = 'spam'
elseif action == 'delete' then
  new = 'deleted'
elseif action == 'restore' then
  if old ~= 'deleted' then
    return {'err', 'not_deleted'}
  end
  if type(doc.trash) ~= 'table' then
    -- Its author deleted it, and with it its text: there is nothing to put back.
    return {'err', 'nothing_to_restore'}
  end
  new = doc.trash.status
else
  return {'err', 'bad_request'}
end
if old == 'deleted' and action ~= 'restore' then
  if action == 'delete' then
    return {'same', raw, redis.call('HGET', meta, 'count'), ''}
  end
  return {'err', 'comment_deleted'}
end
if new == old then
  return {'same', raw, redis.call('HGET', meta, 'count'), ''}
end

local count = tonumber(redis.call('HGET', meta, 'count'))
if old == 'approved' then
  count = redis.call('HINCRBY', meta, 'count', -1)
elseif new == 'approved' then
  count = redis.call('HINCRBY', meta, 'count', 1)
end

if new == 'deleted' then
  -- Kept aside (never in an event or a public view) so the admin can undo.
  local trash = {status = old, html = doc.html, text = doc.text}
  doc.status = 'deleted'
  doc.deleted = tonumber(ARGV[4])
  doc.html = ''
  doc.text = ''
  -- Unindex it if it has no replies, then any placeholder ancestors left childless
  -- (as a reader's own delete does).
  unindex(doc, comments, roots, kids, prefix)
  doc.trash = trash
elseif old == 'deleted' then
  doc.status = new
  doc.html = doc.trash.html
  doc.text = doc.trash.text
  doc.trash = nil
  doc.deleted = nil
  -- Index it again, and every placeholder ancestor that left the index with it.
  local cur = doc
  while true do
    if cur.parent == cjson.null or cur.parent == nil then
      redis.call('ZADD', roots, cur.id, cur.id)
      break
    end
    local sub = prefix .. 'sub:' .. cur.root
    if redis.call('ZSCORE', sub, cur.id) then
      break
    end
    redis.call('ZADD', sub, cur.id, cur.id)
    redis.call('HINCRBY', kids, cur.parent, 1)
    cur = cjson.decode(redis.call('HGET', comments, tostring(cur.parent)))
  end
else
  doc.status = new
end
doc.moderated = tonumber(ARGV[4])
if new == 'approved' then
  -- An admin looked and published it: readers' reports of it are answered.
  doc.flags = nil
  doc.flag_reasons = nil
end

-- A pinned comment that is no longer public is no longer pinned.
if new ~= 'approved' and redis.call('HGET', meta, 'pinned') == ARGV[2] then
  redis.call('HSET', meta, 'pinned', '')
end

-- The event carries the comment without what was kept aside for an undo.
local trash = doc.trash
doc.trash = nil
local public = cjson.encode(doc)
doc.trash = trash
local encoded = cjson.encode(doc)
redis.call('HSET', comments, ARGV[2], encoded)

local kind = 'comment.hidden'
if new == 'approved' then
  kind = 'comment.approved'
elseif new == 'deleted' then
  kind = 'comment.deleted'
end
local seq = redis.call('HINCRBY', meta, 'seq', 1)
redis.call('XADD', events, 'MAXLEN', '~', ARGV[5], seq .. '-1',
  'type', kind, 'doc', public, 'count', count,
  'likes', redis.call('HGET', prefix .. 'likecount', ARGV[2]) or 0)
-- Wake the nodes whose readers follow this thread (the log, not this message, carries the event).
redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
return {'ok', encoded, count, kind}
