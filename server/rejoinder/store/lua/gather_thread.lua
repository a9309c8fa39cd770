-- Everything of one thread that a move takes along, read in one atomic step: its record,
-- its comments (each marked whether it is in the indexes, i.e. shown or a placeholder),
-- like counts, who liked what (with how long each liker's set has left), subscribers and
-- the map of imported ids. Read before absorb_thread.lua; leave_thread.lua checks that
-- nothing changed since (the record's head).
-- KEYS[1] meta; ARGV[1] the thread's key prefix
local prefix = ARGV[1]
local meta = redis.call('HGETALL', KEYS[1])
local indexed = {}
for _, root in ipairs(redis.call('ZRANGE', prefix .. 'roots', 0, -1)) do
  indexed[#indexed + 1] = root
  for _, cid in ipairs(redis.call('ZRANGE', prefix .. 'sub:' .. root, 0, -1)) do
    indexed[#indexed + 1] = cid
  end
end
local likers = {}
for _, key in ipairs(redis.call('SMEMBERS', prefix .. 'likers')) do
  local members = redis.call('SMEMBERS', key)
  if #members > 0 then
    likers[#likers + 1] = string.sub(key, #prefix + 1)
    likers[#likers + 1] = redis.call('PTTL', key)
    likers[#likers + 1] = table.concat(members, ',')
  end
end
return {meta, redis.call('HVALS', prefix .. 'comments'), indexed, redis.call('HGETALL', prefix .. 'likecount'),
        likers, redis.call('HGETALL', prefix .. 'subs'), redis.call('HGETALL', prefix .. 'imported'),
        redis.call('HGETALL', prefix .. 'reactions')}
