-- Store one comment with its indexes, count and event in one atomic step.
-- It runs as a step of steps.lua (store/steps.py), alone or with other comments of the thread.
-- Every check runs before the first write: Redis does not roll a script back,
-- so a refusal must leave nothing behind.
-- KEYS[1] meta, KEYS[2] comments, KEYS[3] roots, KEYS[4] events, KEYS[5] idempotency
-- ARGV: 1 prefix, 2 comment doc JSON, 3 parent cid or "", 4 max depth,
--       5 events maxlen, 6 idempotency ttl s, 7 request fingerprint,
--       8 duplicate keys: comma list of digests of (author key, text) for each way the author is
--         known (identity, email hash, IP hash); "" to skip, 9 seconds a text counts as said
--@include lib_place
local meta, comments, roots, events, idem = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix = ARGV[1]

local seen = redis.call('GET', idem)
if seen then
  local bar = string.find(seen, '|', 1, true)
  if string.sub(seen, 1, bar - 1) ~= ARGV[7] then
    return {'err', 'idempotency_conflict'}
  end
  local cid = string.sub(seen, bar + 1)
  return {'dup', redis.call('HGET', comments, cid), redis.call('HGET', meta, 'count')}
end
if redis.call('EXISTS', meta) == 0 then
  return {'err', 'thread_not_found'}
end
if redis.call('HGET', meta, 'locked') == '1' then
  return {'err', 'thread_locked'}
end

local doc = cjson.decode(ARGV[2])
local maxdepth = tonumber(ARGV[4])
local parent, root, depth, reply_to = nil, nil, 0, nil
if ARGV[3] ~= '' then
  local raw = redis.call('HGET', comments, ARGV[3])
  if not raw then
    return {'err', 'parent_not_found'}
  end
  local p = cjson.decode(raw)
  if p.status == 'deleted' then
    return {'err', 'comment_deleted'}
  end
  if p.status ~= 'approved' then
    return {'err', 'parent_not_found'}
  end
  parent, root, depth, reply_to = attach(p, maxdepth, comments)
end

-- The same author saying the same text in the thread again soon (an honest retry carries its
-- Idempotency-Key and was answered above) is refused, and said so: "You already said that".
-- Another reader's identical "Great post!" is theirs to say.
local bodykeys = {}
if ARGV[8] ~= '' then
  for digest in string.gmatch(ARGV[8], '[^,]+') do
    local bodykey = prefix .. 'body:' .. digest
    if redis.call('EXISTS', bodykey) == 1 then
      return {'err', 'duplicate_comment'}
    end
    bodykeys[#bodykeys + 1] = bodykey
  end
end

-- A write makes a provisional thread record (made by reading its page) permanent.
redis.call('PERSIST', meta)
local cid, seq, encoded = place(doc, parent, root, depth, reply_to, meta, comments, roots, prefix)
local count = tonumber(redis.call('HGET', meta, 'count'))
if doc.status == 'approved' then
  count = redis.call('HINCRBY', meta, 'count', 1)
end
redis.call('XADD', events, 'MAXLEN', '~', ARGV[5], seq .. '-1',
  'type', 'comment.created', 'doc', encoded, 'count', count)
-- Wake the nodes whose readers follow this thread (the log, not this message, carries the event).
redis.call('SPUBLISH', (string.gsub(KEYS[1], 'meta$', 'wake')), seq)
redis.call('SET', idem, ARGV[7] .. '|' .. cid, 'EX', ARGV[6])
for _, bodykey in ipairs(bodykeys) do
  redis.call('SET', bodykey, cid, 'EX', ARGV[9])
end
return {'ok', encoded, count}
