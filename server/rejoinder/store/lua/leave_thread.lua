-- After absorb_thread.lua took a thread's comments elsewhere: leave a pointer in its place,
-- in one atomic step. Only if nothing was written to it since it was read (its head is still
-- `expected`); otherwise the move reads it again and takes what is new. The record stays
-- (locked, with "moved" naming the thread that has its comments, so its page and its old
-- links lead there) and so does its event log, which tells its live readers where it went.
-- KEYS[1] meta, KEYS[2] events
-- ARGV: 1 prefix, 2 expected head, 3 the thread it went to, 4 that thread's page, 5 its url,
--       6 events maxlen
local meta, events, prefix = KEYS[1], KEYS[2], ARGV[1]
if redis.call('EXISTS', meta) == 0 then
  return {'err', 'thread_not_found'}
end
local moved = redis.call('HGET', meta, 'moved')
if moved then
  return {moved == ARGV[3] and 'already' or 'elsewhere', moved}
end
if redis.call('HGET', meta, 'seq') ~= ARGV[2] then
  return {'changed'}
end
local names = {'comments', 'roots', 'likecount', 'kids', 'imported', 'subs', 'retitled', 'reactions'}
for _, root in ipairs(redis.call('ZRANGE', prefix .. 'roots', 0, -1)) do
  redis.call('DEL', prefix .. 'sub:' .. root)
end
for _, key in ipairs(redis.call('SMEMBERS', prefix .. 'likers')) do
  redis.call('DEL', key)
end
redis.call('DEL', prefix .. 'likers')
for _, name in ipairs(names) do redis.call('DEL', prefix .. name) end
redis.call('HDEL', meta, 'pinned')
redis.call('HSET', meta, 'moved', ARGV[3], 'moved_page', ARGV[4], 'moved_url', ARGV[5],
  'locked', '1', 'count', 0, 'likes', 0)
redis.call('PERSIST', meta)
local seq = redis.call('HINCRBY', meta, 'seq', 1)
redis.call('XADD', events, 'MAXLEN', '~', ARGV[6], seq .. '-1', 'type', 'thread.moved', 'to', ARGV[3],
  'page', ARGV[4], 'url', ARGV[5])
redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
return {'ok', seq}
