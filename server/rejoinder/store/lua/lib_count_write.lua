-- A step of steps.lua (pulled in with "--@include lib_count_write").

-- Count one write against each of the caller's limits on a site, and say whether
-- the caller is banned there: the comment path's one step before its write.
-- Each limit is a sliding window, estimated from two fixed windows (this one and the
-- one before, weighted by how much of it still lies in the last window's length):
-- a fixed window alone let twice the limit through around its edge. A counter's key
-- names its window and gets its expiry (two windows) with its first count.
-- keys[1] the site's bans, then for each limit this window's counter and the previous one's
-- (all in the site's slot)
-- argv: 1 counter expiry s, 2 how far into this window we are (0..1), 3 number of limits n,
--       4..3+n each limit, then the ban fields to look up
-- Returns {estimated count per limit..., 1 if any field is banned else 0}.
local function count_write(keys, argv)
  local out = {}
  local into = tonumber(argv[2])
  local over = false
  for i = 1, tonumber(argv[3]) do
    if over then
      -- Refused already (the address's limit comes first): a flood of fresh reader ids behind one
      -- address leaves no counter per id.
      out[#out + 1] = 0
    else
      local current, previous = keys[2 * i], keys[2 * i + 1]
      local n = redis.call('INCR', current)
      if n == 1 then
        redis.call('EXPIRE', current, argv[1])
      end
      local before = tonumber(redis.call('GET', previous) or '0')
      out[#out + 1] = n + math.floor(before * (1 - into))
      over = out[#out] > tonumber(argv[3 + i])
    end
  end
  local banned = 0
  for i = 4 + tonumber(argv[3]), #argv do
    if redis.call('HEXISTS', keys[1], argv[i]) == 1 then
      banned = 1
    end
  end
  out[#out + 1] = banned
  return out
end
