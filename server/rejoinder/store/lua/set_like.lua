-- Like or unlike a comment or the post, once per liker, and log the new count.
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] likecount, KEYS[4] liked-by set, KEYS[5] events
-- ARGV: 1 target ("post" or cid), 2 "1" like / "0" unlike, 3 events maxlen, 4 seconds a liker's set lasts
local meta, comments, likecount, likedby, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local target = ARGV[1]
if redis.call('EXISTS', meta) == 0 then
  return {'err', 'thread_not_found'}
end
if target ~= 'post' then
  local raw = redis.call('HGET', comments, target)
  if not raw then
    return {'err', 'comment_not_found'}
  end
  local status = cjson.decode(raw).status
  if status == 'deleted' then
    return {'err', 'comment_deleted'}
  end
  if status ~= 'approved' then
    return {'err', 'comment_not_found'}
  end
end
-- A write makes a provisional thread record (made by reading its page) permanent.
redis.call('PERSIST', meta)
local changed
if ARGV[2] == '1' then
  changed = redis.call('SADD', likedby, target)
  -- Remember which likers' sets this thread has, so a backup can name every key.
  local likers = (string.gsub(KEYS[1], 'meta$', 'likers'))
  redis.call('SADD', likers, KEYS[4])
  -- A liker's set (and the index of them) lives ARGV[4] seconds after their last like: anonymous
  -- likes cannot leave keys without end. A reader who comes back later may like once more.
  redis.call('EXPIRE', likedby, ARGV[4])
  redis.call('EXPIRE', likers, ARGV[4])
else
  changed = redis.call('SREM', likedby, target)
end
local delta = changed
if ARGV[2] ~= '1' then delta = -changed end
local count
if target == 'post' then
  count = redis.call('HINCRBY', meta, 'likes', delta)
else
  count = redis.call('HINCRBY', likecount, target, delta)
end
if changed == 1 then
  local seq = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], seq .. '-1',
    'type', 'like.changed', 'target', target, 'likes', count)
  -- Wake the nodes whose readers follow this thread (the log, not this message, carries the event).
  redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
end
return {'ok', count, ARGV[2] == '1' and 1 or 0}
