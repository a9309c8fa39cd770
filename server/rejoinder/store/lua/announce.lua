-- After a thread's own write: the site's feed entry, the thread's place among the
-- site's active threads and, for a comment, its pointer on the dashboard's lists
-- (on "recent", and on "pending" or "spam" exactly when that is its status).
-- Every key is in the site's slot: one step, one round trip.
-- KEYS[1] feed, KEYS[2] site threads, KEYS[3] recent, KEYS[4] pending, KEYS[5] spam
-- ARGV: 1 feed maxlen, 2 tid, 3 event type ("" for no feed entry), 4 now ms,
--       5 pointer "tid:cid" ("" for none), 6 its status, 7 its created ms, 8 recent list size
local tid, kind, pointer = ARGV[2], ARGV[3], ARGV[5]
if kind ~= '' then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'tid', tid, 'type', kind)
  redis.call('ZADD', KEYS[2], ARGV[4], tid)
end
if pointer ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[7], pointer)
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[8]) + 1))
  for _, list in ipairs({{'pending', KEYS[4]}, {'spam', KEYS[5]}}) do
    if ARGV[6] == list[1] then
      redis.call('ZADD', list[2], ARGV[7], pointer)
    else
      redis.call('ZREM', list[2], pointer)
    end
  end
end
return 1
