-- Lock or unlock a thread, or pin or unpin one of its comments, and log it.
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] events
-- ARGV: 1 field ("locked" | "pinned"), 2 value ("1"/"0" for locked; a cid or "" for pinned), 3 events maxlen
-- Returns {'ok'|'same', value}.
local meta, comments, events = KEYS[1], KEYS[2], KEYS[3]
local field, value = ARGV[1], ARGV[2]
if redis.call('EXISTS', meta) == 0 then
  return {'err', 'thread_not_found'}
end
if field == 'pinned' and value ~= '' then
  local raw = redis.call('HGET', comments, value)
  if not raw then
    return {'err', 'comment_not_found'}
  end
  local doc = cjson.decode(raw)
  -- Only a published top-level comment leads the thread.
  if doc.status ~= 'approved' or (doc.parent ~= cjson.null and doc.parent ~= nil) then
    return {'err', 'pin_not_allowed'}
  end
end
if (redis.call('HGET', meta, field) or '') == value or (field == 'locked' and value == '0'
    and (redis.call('HGET', meta, field) or '0') == '0') then
  return {'same', value}
end
redis.call('HSET', meta, field, value)
redis.call('PERSIST', meta)  -- an admin's lock or pin makes a provisional record permanent
local seq = redis.call('HINCRBY', meta, 'seq', 1)
if field == 'locked' then
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], seq .. '-1', 'type', 'thread.locked', 'locked', value)
else
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], seq .. '-1', 'type', 'thread.pinned', 'pinned', value)
end
redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
return {'ok', value}
