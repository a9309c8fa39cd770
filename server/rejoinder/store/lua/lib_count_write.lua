-- A step of steps.lua (pulled in with "--@include lib_count_write").

-- Count one write against each of the caller's limits on a site, and say whether
-- the caller is banned there: the comment path's one step before its write.
-- A counter's key names its window and gets its expiry in the same step as its
-- first count, so no counter is ever left without one.
-- keys[1] the site's bans, keys[2..] this window's counters (all in the site's slot)
-- argv: 1 counter expiry s, 2.. ban fields to look up
-- Returns {count per counter..., 1 if any field is banned else 0}.
local function count_write(keys, argv)
  local out = {}
  for i = 2, #keys do
    local n = redis.call('INCR', keys[i])
    if n == 1 then
      redis.call('EXPIRE', keys[i], argv[1])
    end
    out[#out + 1] = n
  end
  local banned = 0
  for i = 2, #argv do
    if redis.call('HEXISTS', keys[1], argv[i]) == 1 then
      banned = 1
    end
  end
  out[#out + 1] = banned
  return out
end
