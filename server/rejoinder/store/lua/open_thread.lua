-- Read one page of a thread, creating the thread's record on first sight.
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] roots, KEYS[4] likecount
-- ARGV: 1 prefix, 2 order ("oldest"|"newest"|"best"), 3 cursor (cid, or for best an offset) or "", 4 limit,
--       5 inline replies per root, 6 liker id or "",
--       7 create? ("1"|"0"), 8 site, 9 page key, 10 url, 11 title, 12 now ms, 13 new epoch,
--       14 seconds a created record lasts without a write, 15 seconds before a page may change its title
local meta, comments, roots, likecount = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix = ARGV[1]

if redis.call('EXISTS', meta) == 0 then
  if ARGV[7] ~= '1' then
    return {'missing'}
  end
  redis.call('HSET', meta, 'site', ARGV[8], 'page', ARGV[9], 'url', ARGV[10],
    'title', ARGV[11], 'created', ARGV[12], 'seq', 0, 'cids', 0, 'count', 0,
    'likes', 0, 'epoch', ARGV[13], 'locked', 0)
  -- Provisional: a page only read goes away again; the first comment or like makes it permanent.
  redis.call('EXPIRE', meta, ARGV[14])
  -- Its title came with this first request: no page may change it again for a while (api/threads.py).
  redis.call('SET', prefix .. 'retitled', '1', 'EX', ARGV[15])
end

local limit = tonumber(ARGV[4])
local inline = tonumber(ARGV[5])
-- A pinned comment leads the first page and is left out of the others. Only a
-- published top-level comment is shown pinned (its author may delete it later).
local pinned = redis.call('HGET', meta, 'pinned') or ''
local fetch = limit + 1
if pinned ~= '' then fetch = limit + 2 end
local ids
if ARGV[2] == 'best' then
  -- Most liked first, ties oldest first; the cursor is how many came before this page.
  -- Read in slices: Lua's unpack takes a few thousand values at most.
  local all = redis.call('ZRANGE', roots, 0, -1)
  local ranked = {}
  for i = 1, #all, 1000 do
    local part = {}
    for j = i, math.min(#all, i + 999) do part[#part + 1] = all[j] end
    local counts = redis.call('HMGET', likecount, unpack(part))
    for j, rid in ipairs(part) do
      if rid ~= pinned then ranked[#ranked + 1] = {tonumber(rid), tonumber(counts[j]) or 0} end
    end
  end
  table.sort(ranked, function(a, b)
    if a[2] ~= b[2] then return a[2] > b[2] end
    return a[1] < b[1]
  end)
  local offset = ARGV[3] == '' and 0 or tonumber(ARGV[3])
  ids = {}
  for i = offset + 1, math.min(#ranked, offset + fetch) do ids[#ids + 1] = tostring(ranked[i][1]) end
elseif ARGV[2] == 'newest' then
  local top = ARGV[3] == '' and '+inf' or ('(' .. ARGV[3])
  ids = redis.call('ZRANGE', roots, top, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, fetch)
else
  local bottom = ARGV[3] == '' and '-inf' or ('(' .. ARGV[3])
  ids = redis.call('ZRANGE', roots, bottom, '+inf', 'BYSCORE', 'LIMIT', 0, fetch)
end
if pinned ~= '' then
  local kept = {}
  for _, rid in ipairs(ids) do
    if rid ~= pinned then kept[#kept + 1] = rid end
  end
  ids = kept
end
local more = 0
while #ids > limit do
  more = 1
  ids[#ids] = nil
end
if pinned ~= '' and ARGV[3] == '' then
  local raw = redis.call('HGET', comments, pinned)
  local doc = raw and cjson.decode(raw)
  if doc and doc.status == 'approved' and (doc.parent == cjson.null or doc.parent == nil) then
    table.insert(ids, 1, pinned)
  end
end

-- Each root, then up to `inline` of its descendants (oldest first), and how many are left.
local docs, groups = {}, {}
local wanted = {}
for _, rid in ipairs(ids) do
  local sub = prefix .. 'sub:' .. rid
  local kids = redis.call('ZRANGE', sub, 0, inline - 1)
  local total = redis.call('ZCARD', sub)
  groups[#groups + 1] = {rid, #kids, total - #kids}
  wanted[#wanted + 1] = rid
  for _, k in ipairs(kids) do wanted[#wanted + 1] = k end
end
if #wanted > 0 then
  docs = redis.call('HMGET', comments, unpack(wanted))
end
local likes = {}
if #wanted > 0 then
  likes = redis.call('HMGET', likecount, unpack(wanted))
end
local liked = {}
if ARGV[6] ~= '' then
  liked = redis.call('SMEMBERS', prefix .. 'liked:' .. ARGV[6])
end
return {'ok', redis.call('HGETALL', meta), docs, likes, liked, groups, more}
