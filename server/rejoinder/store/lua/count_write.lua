-- Count one write against each of the caller's limits on a site, and say whether
-- the caller is banned there: the comment path's one step before its write.
-- A counter's key names its window and gets its expiry in the same step as its
-- first count, so no counter is ever left without one.
-- KEYS[1] the site's bans, KEYS[2..] this window's counters (all in the site's slot)
-- ARGV: 1 counter expiry s, 2.. ban fields to look up
-- Returns {count per counter..., 1 if any field is banned else 0}.
local out = {}
for i = 2, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then
    redis.call('EXPIRE', KEYS[i], ARGV[1])
  end
  out[#out + 1] = n
end
local banned = 0
for i = 2, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then
    banned = 1
  end
end
out[#out + 1] = banned
return out
