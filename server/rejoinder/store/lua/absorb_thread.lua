-- Take another thread's comments, likes and subscribers into this one in one atomic step
-- (a remap moves a thread to an empty one; a merge joins two). The source is left as it
-- was: leave_thread.lua turns it into a pointer here once this step has taken all of it.
-- Each comment taken is remembered ("moved:<from>:<id>" in the imported map), so running
-- the move again after a crash, or after the source got one more comment, takes only what
-- is new. Into a thread that holds no comment, comments keep their ids (links to
-- "#c12" still work); otherwise they get the next ids, in their order.
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] roots, KEYS[4] events, KEYS[5] likecount,
-- KEYS[6] imported, KEYS[7] subs, KEYS[8] likers
-- ARGV: 1 prefix, 2 events maxlen, 3 thread JSON {site, page, url, title, created, epoch, locked, from},
--       4 source JSON {docs (in id order, each with "indexed"), likes {id: n}, post_likes,
--       likers {"liked:<liker>": {members, ttl}}, subs {hash: value}, imported {key: id}, pinned}
local meta, comments, roots, events, likecount, imported, subs, likers =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local prefix, maxlen = ARGV[1], ARGV[2]
local thread = cjson.decode(ARGV[3])
local src = cjson.decode(ARGV[4])

if redis.call('EXISTS', meta) == 0 then
  redis.call('HSET', meta, 'site', thread.site, 'page', thread.page, 'url', thread.url,
    'title', thread.title, 'created', thread.created, 'seq', 0, 'cids', 0, 'count', 0,
    'likes', 0, 'epoch', thread.epoch, 'locked', thread.locked)
elseif redis.call('HGET', meta, 'site') ~= thread.site then
  return {'err', 'thread_of_another_site'}
elseif redis.call('HEXISTS', meta, 'moved') == 1 then
  if redis.call('HGET', meta, 'moved') ~= thread.from then
    return {'err', 'thread_moved'}
  end
  -- Moving back to where it came from: the pointer becomes a thread again.
  redis.call('HDEL', meta, 'moved', 'moved_page', 'moved_url')
  redis.call('HSET', meta, 'page', thread.page, 'url', thread.url, 'locked', thread.locked, 'count', 0,
    'likes', 0)
else
  if (redis.call('HGET', meta, 'title') or '') == '' and thread.title ~= '' then
    redis.call('HSET', meta, 'title', thread.title)
  end
end
-- A page only read had a provisional record: taking comments makes it permanent.
redis.call('PERSIST', meta)

local keep = redis.call('EXISTS', comments) == 0
local from = thread.from
local map = {}
local added = 0
local count = tonumber(redis.call('HGET', meta, 'count'))
local seq = tonumber(redis.call('HGET', meta, 'seq'))
local olds = {}

local function mapped(id)
  if id == nil or id == cjson.null then return nil end
  return map[id]
end

for _, doc in ipairs(src.docs) do
  olds[#olds + 1] = doc.id
  local key = 'moved:' .. from .. ':' .. doc.id
  local have = redis.call('HGET', imported, key)
  if have then
    map[doc.id] = tonumber(have)
  else
    local old = doc.id
    local cid
    if keep then
      cid = old
      if cid > tonumber(redis.call('HGET', meta, 'cids')) then redis.call('HSET', meta, 'cids', cid) end
    else
      cid = redis.call('HINCRBY', meta, 'cids', 1)
    end
    map[old] = cid
    local parent = mapped(doc.parent)
    doc.id = cid
    if parent then
      doc.parent = parent
      doc.root = mapped(doc.root) or parent
    else
      -- A parent that did not come along (it was never stored) leaves its reply at the top.
      doc.parent = cjson.null
      doc.root = cid
      if doc.depth ~= 0 then doc.depth = 0 end
    end
    doc.reply_to = mapped(doc.reply_to) or cjson.null
    local indexed = doc.indexed
    doc.indexed = nil
    local encoded = cjson.encode(doc)
    redis.call('HSET', comments, cid, encoded)
    if indexed then
      if parent then
        redis.call('ZADD', prefix .. 'sub:' .. doc.root, cid, cid)
        redis.call('HINCRBY', prefix .. 'kids', parent, 1)
      else
        redis.call('ZADD', roots, cid, cid)
      end
    end
    local likes = tonumber(src.likes[tostring(old)] or 0)
    if likes > 0 then redis.call('HSET', likecount, cid, likes) end
    if doc.status == 'approved' then count = redis.call('HINCRBY', meta, 'count', 1) end
    seq = redis.call('HINCRBY', meta, 'seq', 1)
    -- Marked imported: history, not news (no mail goes out for it), but live readers see it arrive.
    redis.call('XADD', events, 'MAXLEN', '~', maxlen, seq .. '-1',
      'type', 'comment.created', 'doc', encoded, 'count', count, 'likes', likes, 'imported', '1')
    redis.call('HSET', imported, key, cid)
    added = added + 1
  end
end

-- Who liked what: each liker's set follows, by the new ids; a like of both posts counts once.
local post_overlap = 0
local post_key = 'moved:' .. from .. ':post'
local first_time = redis.call('HSETNX', imported, post_key, '1') == 1
for suffix, set in pairs(src.likers) do
  local name = prefix .. suffix
  for _, member in ipairs(set.members) do
    local target = member
    local rcid, emoji = string.match(member, '^(%d+)|(.+)$')
    if rcid then
      -- A reaction ("cid|emoji"): it follows its comment.
      target = map[tonumber(rcid)] and (tostring(map[tonumber(rcid)]) .. '|' .. emoji) or nil
    elseif member ~= 'post' then
      target = map[tonumber(member)] and tostring(map[tonumber(member)]) or nil
    end
    if target then
      local new = redis.call('SADD', name, target)
      if member == 'post' and new == 0 and first_time then post_overlap = post_overlap + 1 end
    end
  end
  local ttl = tonumber(set.ttl)
  if ttl > 0 and redis.call('PTTL', name) < ttl then redis.call('PEXPIRE', name, ttl) end
  redis.call('SADD', likers, name)
  if ttl > 0 and redis.call('PTTL', likers) < ttl then redis.call('PEXPIRE', likers, ttl) end
end
if first_time and tonumber(src.post_likes) - post_overlap > 0 then
  local likes = redis.call('HINCRBY', meta, 'likes', tonumber(src.post_likes) - post_overlap)
  seq = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('XADD', events, 'MAXLEN', '~', maxlen, seq .. '-1', 'type', 'like.changed', 'target', 'post',
    'likes', likes)
end

for hash, value in pairs(src.subs) do redis.call('HSETNX', subs, hash, value) end
-- Reaction counts follow their comments (added to what a merged thread's comment has: ids never meet).
if src.reactions then
  local reactions = prefix .. 'reactions'
  for old, counts in pairs(src.reactions) do
    local cid = map[tonumber(old)]
    if cid and redis.call('HEXISTS', imported, 'moved:' .. from .. ':r:' .. old) == 0 then
      redis.call('HSET', reactions, cid, cjson.encode(counts))
      redis.call('HSET', imported, 'moved:' .. from .. ':r:' .. old, '1')
    end
  end
end
-- What an earlier import brought in stays known as imported here: the same file again adds nothing.
for key, id in pairs(src.imported) do
  local cid = map[tonumber(id)]
  if cid then redis.call('HSETNX', imported, key, cid) end
end
if src.pinned ~= cjson.null and src.pinned ~= nil and map[tonumber(src.pinned)]
    and (redis.call('HGET', meta, 'pinned') or '') == '' then
  redis.call('HSET', meta, 'pinned', map[tonumber(src.pinned)])
end
redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
-- Where each comment went: old id, new id, ...
local flat = {}
for _, old in ipairs(olds) do
  flat[#flat + 1] = old
  flat[#flat + 1] = map[old]
end
return {'ok', added, count, flat}
