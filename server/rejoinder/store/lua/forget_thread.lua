-- Forget one commenter in one thread, in one atomic step: each of their comments
-- loses everything of them (body, name, website, avatar, email, IP hash, owner
-- key); one with replies stays as a placeholder so the thread keeps its shape, one
-- without leaves the indexes (as delete_comment.lua does). Their likes go (when
-- keyed by the identity being forgotten), counts follow, and the event log is cut
-- after the last entry that carried their words, so no copy of them is left;
-- readers that were further back than that refetch the thread (resync). Their reactions go
-- too. New comment.deleted, like.changed and reaction.changed events tell live readers.
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] roots, KEYS[4] events, KEYS[5] likecount,
--      KEYS[6] the identity's liked-by set (a never-used name when forgetting by email), KEYS[7] likers
-- ARGV: 1 prefix, 2 "email" | "identity", 3 the lower-cased email or the identity key,
--       4 now ms, 5 events maxlen
--@include lib_unindex
local meta, comments, roots, events, likecount, likedby, likers = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local prefix, mode, who, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local kids = prefix .. 'kids'
if redis.call('EXISTS', meta) == 0 then
  return {'ok', 0, 0, 0, 0, 0}
end

local function theirs(doc)
  if doc.forgotten then return false end
  if mode == 'email' then
    return type(doc.email) == 'string' and doc.email ~= '' and string.lower(doc.email) == who
  end
  return doc.owner == who or (type(doc.author) == 'table' and doc.author.user ~= nil
    and doc.author.user ~= cjson.null and 'u:' .. doc.author.user == who)
end

local matched, ids = {}, {}
local all = redis.call('HGETALL', comments)
for i = 1, #all, 2 do
  local doc = cjson.decode(all[i + 1])
  if theirs(doc) then
    matched[#matched + 1] = doc
    ids[doc.id] = true
  end
end

local count = tonumber(redis.call('HGET', meta, 'count') or '0')
local deleted, placeholders, likes_removed = {}, 0, 0
for _, doc in ipairs(matched) do
  local was = doc.status
  local kept = {id = doc.id, parent = doc.parent, root = doc.root, depth = doc.depth, reply_to = doc.reply_to,
                created = doc.created, site = doc.site, status = 'deleted', deleted = doc.deleted or now,
                forgotten = now, html = '', text = '', email = '', ip = '', owner = '', edit_hash = '',
                spam_reasons = '', author = {kind = 'guest', name = '', website = '', avatar = ''}}
  local encoded = cjson.encode(kept)
  redis.call('HSET', comments, doc.id, encoded)
  redis.call('HDEL', likecount, doc.id)
  if was == 'approved' then
    count = redis.call('HINCRBY', meta, 'count', -1)
  end
  if was ~= 'deleted' then
    deleted[#deleted + 1] = {encoded, count}
    -- Unindex it if it has no replies, then any placeholder ancestors left childless.
    unindex(kept, comments, roots, kids, prefix)
  end
end
for _, doc in ipairs(matched) do
  if tonumber(redis.call('HGET', kids, doc.id) or '0') > 0 then
    placeholders = placeholders + 1
  end
end

-- Their likes, when the identity that gave them is the one being forgotten.
local like_events = {}
local reaction_events = {}
if mode == 'identity' then
  for _, target in ipairs(redis.call('SMEMBERS', likedby)) do
    local n
    if target == 'post' then
      n = redis.call('HINCRBY', meta, 'likes', -1)
    elseif not ids[tonumber(target)] and redis.call('HEXISTS', likecount, target) == 1 then
      n = redis.call('HINCRBY', likecount, target, -1)
    end
    if n then
      likes_removed = likes_removed + 1
      like_events[#like_events + 1] = {target, n}
    end
  end
  redis.call('DEL', likedby)
  redis.call('SREM', likers, likedby)
  -- And their reactions ("cid|emoji" in their own set): each count goes down by theirs.
  local reacted = prefix .. 'reacted:' .. who
  local reactions = prefix .. 'reactions'
  for _, member in ipairs(redis.call('SMEMBERS', reacted)) do
    local rcid, emoji = string.match(member, '^(%d+)|(.+)$')
    local stored = rcid and redis.call('HGET', reactions, rcid)
    if stored then
      local counts = cjson.decode(stored)
      local n = math.max(0, tonumber(counts[emoji] or 0) - 1)
      if n > 0 then counts[emoji] = n else counts[emoji] = nil end
      if next(counts) == nil then
        redis.call('HDEL', reactions, rcid)
      else
        redis.call('HSET', reactions, rcid, cjson.encode(counts))
      end
      reaction_events[#reaction_events + 1] = {rcid, emoji, n}
    end
  end
  redis.call('DEL', reacted)
  redis.call('SREM', likers, reacted)
end

-- Cut the log after the last entry that holds one of their comments.
local last = nil
if next(ids) ~= nil then
  for _, entry in ipairs(redis.call('XRANGE', events, '-', '+')) do
    local fields = entry[2]
    for j = 1, #fields, 2 do
      if fields[j] == 'doc' then
        local ok, doc = pcall(cjson.decode, fields[j + 1])
        if ok and ids[doc.id] then
          last = entry[1]
        end
      end
    end
  end
end
if last then
  local s = tonumber(string.match(last, '^(%d+)-'))
  redis.call('XTRIM', events, 'MINID', (s + 1) .. '-0')
end

local seq = tonumber(redis.call('HGET', meta, 'seq') or '0')
for _, d in ipairs(deleted) do
  seq = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[5], seq .. '-1',
    'type', 'comment.deleted', 'doc', d[1], 'count', d[2])
end
for _, l in ipairs(like_events) do
  seq = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[5], seq .. '-1',
    'type', 'like.changed', 'target', l[1], 'likes', l[2])
end
for _, r in ipairs(reaction_events) do
  seq = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[5], seq .. '-1',
    'type', 'reaction.changed', 'target', r[1], 'emoji', r[2], 'count', r[3])
end
if #deleted > 0 or #like_events > 0 or #reaction_events > 0 then
  -- Wake the nodes whose readers follow this thread (the log, not this message, carries the events).
  redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
end
return {'ok', #matched, #deleted, placeholders, likes_removed, count}
