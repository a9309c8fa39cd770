-- Every key of one thread, serialised with DUMP in one atomic step: a consistent
-- snapshot even while comments keep arriving. Idempotency keys are left out (they
-- only guard retries for a day).
-- KEYS[1] meta; ARGV[1] the thread's key prefix
local prefix = ARGV[1]
local names = {'meta', 'comments', 'roots', 'events', 'likecount', 'kids', 'likers', 'imported', 'reactions'}
local out = {}
local function add(key)
  local payload = redis.call('DUMP', key)
  if payload then
    local ttl = redis.call('PTTL', key)
    out[#out + 1] = key
    out[#out + 1] = payload
    out[#out + 1] = ttl > 0 and ttl or 0
  end
end
for _, name in ipairs(names) do add(prefix .. name) end
for _, root in ipairs(redis.call('ZRANGE', prefix .. 'roots', 0, -1)) do add(prefix .. 'sub:' .. root) end
for _, key in ipairs(redis.call('SMEMBERS', prefix .. 'likers')) do add(key) end
return out
