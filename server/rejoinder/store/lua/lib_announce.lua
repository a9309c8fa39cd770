-- A step of steps.lua (pulled in with "--@include lib_announce").

-- After a thread's own write: the site's feed entry, the thread's place among the
-- site's active threads and, for a comment, its pointer on the dashboard's lists
-- (on "recent", and on "pending" or "spam" exactly when that is its status).
-- keys[1] feed, keys[2] site threads, keys[3] recent, keys[4] pending, keys[5] spam
-- argv: 1 feed maxlen, 2 tid, 3 event type ("" for no feed entry), 4 now ms,
--       5 pointer "tid:cid" ("" for none), 6 its status, 7 its created ms, 8 recent list size
local function announce(keys, argv)
  local tid, kind, pointer = argv[2], argv[3], argv[5]
  if kind ~= '' then
    redis.call('XADD', keys[1], 'MAXLEN', '~', argv[1], '*', 'tid', tid, 'type', kind)
    redis.call('ZADD', keys[2], argv[4], tid)
  end
  if pointer ~= '' then
    redis.call('ZADD', keys[3], argv[7], pointer)
    redis.call('ZREMRANGEBYRANK', keys[3], 0, -(tonumber(argv[8]) + 1))
    for _, list in ipairs({{'pending', keys[4]}, {'spam', keys[5]}}) do
      if argv[6] == list[1] then
        redis.call('ZADD', list[2], argv[7], pointer)
      else
        redis.call('ZREM', list[2], pointer)
      end
    end
  end
  return 1
end
