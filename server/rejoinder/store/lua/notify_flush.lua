-- Close a batch of new-comment mail: drop the items it used and queue its mail, atomically.
-- KEYS[1] the batch's list, KEYS[2] batch due, KEYS[3] outbox
-- ARGV: 1 member, 2 items used, 3 the mail's fields as JSON ("" when nothing is left to send)
redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
if redis.call('LLEN', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
end
if ARGV[3] ~= '' then
  local args = {}
  for k, v in pairs(cjson.decode(ARGV[3])) do
    args[#args + 1] = k
    args[#args + 1] = v
  end
  redis.call('XADD', KEYS[3], '*', unpack(args))
end
return 1
