-- The small steps in one site's slot that requests take around their thread's
-- write (store/site_steps.py): counting a write, announcing one. Steps that
-- several requests asked for at once run here in turn, in one call.
-- KEYS: each step's keys in turn (all in the site's slot)
-- ARGV: for each step in turn: its name, its number of keys, its number of
--       arguments, then those arguments
-- Returns each step's reply (or error), in order.
--@include lib_count_write
--@include lib_announce
local steps = {count_write = count_write, announce = announce}
-- Every step's name is checked before the first one writes.
local a = 1
while a <= #ARGV do
  if steps[ARGV[a]] == nil then
    return redis.error_reply('site_steps: unknown step ' .. tostring(ARGV[a]))
  end
  a = a + 3 + tonumber(ARGV[a + 2])
end
-- A step that fails (a key of the wrong type, say) gives its own error reply and
-- the others still run: requests that shared a run do not share a failure.
local out, k = {}, 1
a = 1
while a <= #ARGV do
  local nkeys, nargs = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local ok, reply = pcall(steps[ARGV[a]], {unpack(KEYS, k, k + nkeys - 1)}, {unpack(ARGV, a + 3, a + 2 + nargs)})
  if not ok then
    reply = redis.error_reply(type(reply) == 'table' and reply.err or tostring(reply))
  end
  out[#out + 1] = reply
  k, a = k + nkeys, a + 3 + nargs
end
return out
