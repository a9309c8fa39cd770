-- Shared by the scripts that delete a comment (pulled in with "--@include lib_unindex").
-- Take a comment that has no replies out of its thread's indexes, then each
-- "deleted" placeholder ancestor it leaves without replies. One with replies
-- stays indexed, as a placeholder, so the thread keeps its shape.
local function unindex(cur, comments, roots, kids, prefix)
  while cur do
    if tonumber(redis.call('HGET', kids, cur.id) or '0') > 0 then
      return
    end
    if cur.parent == cjson.null or cur.parent == nil then
      redis.call('ZREM', roots, cur.id)
      return
    end
    redis.call('ZREM', prefix .. 'sub:' .. cur.root, cur.id)
    if redis.call('HINCRBY', kids, cur.parent, -1) > 0 then
      return
    end
    redis.call('HDEL', kids, cur.parent)
    local up = cjson.decode(redis.call('HGET', comments, tostring(cur.parent)))
    if up.status ~= 'deleted' then
      return
    end
    cur = up
  end
end
