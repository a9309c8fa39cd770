-- A step of steps.lua (pulled in with "--@include lib_announce").

-- After a thread's own write: the site's feed entry, the thread's place among the
-- site's active threads and, for a comment, its pointer on the dashboard's lists
-- (on "recent", and on "pending" or "spam" exactly when that is its status).
-- A new comment is also counted on the site's figures of the day (the dashboard's overview,
-- store/stats.py): by the status it arrived with, each reason that held it or caught it as spam,
-- and its thread among the day's busiest. Counted once: when its pointer first reaches "recent"
-- (an announcement repeated after a lost answer finds it there).
-- keys[1] feed, keys[2] site threads, keys[3] recent, keys[4] pending, keys[5] spam,
-- keys[6] the day's figures (hash), keys[7] the day's threads by new comments (sorted set),
-- keys[8] reported (a reader's report puts the comment there: event type "comment.reported")
-- argv: 1 feed maxlen, 2 tid, 3 event type ("" for no feed entry), 4 now ms,
--       5 pointer "tid:cid" ("" for none), 6 its status, 7 its created ms, 8 recent list size,
--       9 seconds the day's figures are kept, 10 seconds its thread ranking is kept,
--       11 reasons it was held or caught (comma list, "" for none)
local function announce(keys, argv)
  local tid, kind, pointer = argv[2], argv[3], argv[5]
  if kind ~= '' then
    redis.call('XADD', keys[1], 'MAXLEN', '~', argv[1], '*', 'tid', tid, 'type', kind)
    redis.call('ZADD', keys[2], argv[4], tid)
  end
  if pointer ~= '' and kind == 'comment.reported' then
    redis.call('ZADD', keys[8], argv[4], pointer)
  end
  if pointer ~= '' then
    local new = redis.call('ZADD', keys[3], argv[7], pointer)
    if new == 1 and kind == 'comment.created' then
      redis.call('HINCRBY', keys[6], 'new:' .. argv[6], 1)
      for reason in string.gmatch(argv[11], '[^,]+') do
        redis.call('HINCRBY', keys[6], 'caught:' .. reason, 1)
      end
      redis.call('EXPIRE', keys[6], argv[9])
      redis.call('ZINCRBY', keys[7], 1, tid)
      redis.call('EXPIRE', keys[7], argv[10])
    end
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
