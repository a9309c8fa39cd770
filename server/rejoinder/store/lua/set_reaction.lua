-- React to a published comment with one of the site's emoji, or take it back: once per reader
-- and emoji, the comment's counts and the event in one atomic step.
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] reactions (cid -> JSON {emoji: count}),
-- KEYS[4] the reader's reactions (set of "cid|emoji"), KEYS[5] events, KEYS[6] likers (index of readers' sets)
-- ARGV: 1 cid, 2 emoji, 3 "1" react / "0" take back, 4 events maxlen, 5 seconds a reader's set lasts
local meta, comments, reactions, mine, events, likers = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local cid, emoji = ARGV[1], ARGV[2]
local raw = redis.call('HGET', comments, cid)
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
redis.call('PERSIST', meta)
local member = cid .. '|' .. emoji
local changed
if ARGV[3] == '1' then
  changed = redis.call('SADD', mine, member)
  redis.call('EXPIRE', mine, ARGV[5])
  -- The index of readers' sets (backups, moves and forgetting find them there).
  redis.call('SADD', likers, mine)
  redis.call('EXPIRE', likers, ARGV[5])
else
  changed = redis.call('SREM', mine, member)
end
local counts = {}
local stored = redis.call('HGET', reactions, cid)
if stored then counts = cjson.decode(stored) end
local count = tonumber(counts[emoji] or 0)
if changed == 1 then
  if ARGV[3] == '1' then count = count + 1 else count = math.max(0, count - 1) end
  if count > 0 then counts[emoji] = count else counts[emoji] = nil end
  if next(counts) == nil then
    redis.call('HDEL', reactions, cid)
  else
    redis.call('HSET', reactions, cid, cjson.encode(counts))
  end
  local seq = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[4], seq .. '-1',
    'type', 'reaction.changed', 'target', cid, 'emoji', emoji, 'count', count)
  redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
end
return {'ok', count, ARGV[3] == '1' and 1 or 0}
