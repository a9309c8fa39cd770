-- The steps that requests take, several at once (store/steps.py): in a site's
-- slot, counting a write and announcing one; in a thread's, storing a comment.
-- Steps asked for together run here in turn, in one call; each is as atomic as
-- on its own and keeps to its own slot.
-- KEYS: each step's keys in turn (on a cluster all in one slot; on one server,
--       a run mixes slots)
-- ARGV: for each step in turn: its name, its number of keys, its number of
--       arguments, then those arguments
-- Returns each step's reply (or error), in order.
--@include lib_count_write
--@include lib_announce
-- create_comment.lua as a function: its KEYS and ARGV are the step's own.
local function create_comment(KEYS, ARGV)
--@include create_comment
end
local steps = {count_write = count_write, announce = announce, create_comment = create_comment}
-- Every step's name is checked before the first one writes.
local a = 1
while a <= #ARGV do
  if steps[ARGV[a]] == nil then
    return redis.error_reply('steps: unknown step ' .. tostring(ARGV[a]))
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
