-- Import one thread's comments from another system in one atomic step: the thread
-- record (if new), every comment with its indexes, likes and count, one
-- comment.created event each (marked imported), and the map from the file's ids to
-- ours that makes a second run skip what is already here.
-- Nothing below can fail half-way: the documents were built and checked by the
-- server, and a parent that cannot be found only means "top level".
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] roots, KEYS[4] events, KEYS[5] likecount, KEYS[6] imported
-- ARGV: 1 prefix, 2 max depth, 3 events maxlen, 4 thread JSON {site, page, url, title, created,
--       locked, likes, likes_key, epoch}, then per comment: key, parent key or "", doc JSON, likes
--@include lib_place
local meta, comments, roots, events, likecount, imported = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local prefix = ARGV[1]
local maxdepth = tonumber(ARGV[2])
local thread = cjson.decode(ARGV[4])

local created_thread = 0
if redis.call('EXISTS', meta) == 0 then
  redis.call('HSET', meta, 'site', thread.site, 'page', thread.page, 'url', thread.url,
    'title', thread.title, 'created', thread.created, 'seq', 0, 'cids', 0, 'count', 0,
    'likes', 0, 'epoch', thread.epoch, 'locked', thread.locked)
  created_thread = 1
elseif redis.call('HGET', meta, 'site') ~= thread.site then
  return {'err', 'thread_of_another_site'}
elseif redis.call('HEXISTS', meta, 'moved') == 1 then
  -- A remap or merge moved this page's comments (store/moving.py): the import goes where they went.
  return {'moved', redis.call('HGET', meta, 'moved')}
else
  if (redis.call('HGET', meta, 'title') or '') == '' and thread.title ~= '' then
    redis.call('HSET', meta, 'title', thread.title)
  end
  if (redis.call('HGET', meta, 'url') or '') == '' and thread.url ~= '' then
    redis.call('HSET', meta, 'url', thread.url)
  end
end
-- An imported thread is permanent, even where reading its page had made a provisional record.
redis.call('PERSIST', meta)

-- Shown: approved, or a deleted placeholder that is still in the indexes.
local function shown(p)
  if p.status == 'approved' then return true end
  if p.status ~= 'deleted' then return false end
  if p.parent == cjson.null or p.parent == nil then
    return redis.call('ZSCORE', roots, p.id) ~= false
  end
  return redis.call('ZSCORE', prefix .. 'sub:' .. p.root, p.id) ~= false
end

local function load(cid)
  local raw = redis.call('HGET', comments, tostring(cid))
  return raw and cjson.decode(raw) or nil
end

local added, already, hidden, post_likes = 0, {}, {}, 0
local count = tonumber(redis.call('HGET', meta, 'count'))
local seq = tonumber(redis.call('HGET', meta, 'seq'))
for i = 5, #ARGV, 4 do
  local key = ARGV[i]
  if redis.call('HEXISTS', imported, key) == 1 then
    already[#already + 1] = key
  else
    local doc = cjson.decode(ARGV[i + 2])
    local p = nil
    if ARGV[i + 1] ~= '' then
      local pcid = redis.call('HGET', imported, ARGV[i + 1])
      if pcid then p = load(pcid) end
      -- A reply to a comment nobody sees goes under its nearest shown ancestor.
      local moved = false
      while p and not shown(p) do
        moved = true
        if p.parent == cjson.null or p.parent == nil then p = nil else p = load(p.parent) end
      end
      if moved then hidden[#hidden + 1] = key end
    end
    local parent, root, depth, reply_to = nil, nil, 0, nil
    if p then
      parent, root, depth, reply_to = attach(p, maxdepth, comments)
    end
    local cid, encoded
    cid, seq, encoded = place(doc, parent, root, depth, reply_to, meta, comments, roots, prefix)
    if doc.status == 'approved' then
      count = redis.call('HINCRBY', meta, 'count', 1)
    end
    local likes = tonumber(ARGV[i + 3])
    if likes > 0 then
      redis.call('HSET', likecount, cid, likes)
    end
    redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], seq .. '-1',
      'type', 'comment.created', 'doc', encoded, 'count', count, 'likes', likes, 'imported', '1')
    redis.call('HSET', imported, key, cid)
    added = added + 1
  end
end

if tonumber(thread.likes) > 0 and redis.call('HSETNX', imported, thread.likes_key, thread.likes) == 1 then
  local likes = redis.call('HINCRBY', meta, 'likes', thread.likes)
  seq = redis.call('HINCRBY', meta, 'seq', 1)
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[3], seq .. '-1',
    'type', 'like.changed', 'target', 'post', 'likes', likes)
  post_likes = 1
end

if added > 0 or post_likes == 1 then
  -- Wake the nodes whose readers follow this thread (the log, not this message, carries the events).
  redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
end
return {'ok', added, already, hidden, count, created_thread}
