-- Shared by the scripts that add comments (pulled in with "--@include lib_place").

-- Where a reply to comment `p` goes: past the depth cap, under the deepest allowed
-- ancestor, keeping the real target as reply_to. Returns parent, root, depth, reply_to.
local function attach(p, maxdepth, comments)
  local parent, root, depth, reply_to = p.id, p.root, p.depth + 1, nil
  while depth > maxdepth do
    reply_to = reply_to or p.id
    if p.parent == cjson.null or p.parent == nil then
      return nil, nil, 0, reply_to
    end
    p = cjson.decode(redis.call('HGET', comments, tostring(p.parent)))
    parent, depth = p.id, p.depth + 1
  end
  return parent, root, depth, reply_to
end

-- Give `doc` the thread's next id and sequence number, put it in the indexes
-- (roots, or its root's replies and its parent's reply count) and store it.
-- Returns cid, seq and the stored JSON.
local function place(doc, parent, root, depth, reply_to, meta, comments, roots, prefix)
  local cid = redis.call('HINCRBY', meta, 'cids', 1)
  local seq = redis.call('HINCRBY', meta, 'seq', 1)
  doc.id = cid
  doc.parent = parent or cjson.null
  doc.reply_to = reply_to or cjson.null
  doc.depth = depth
  if parent then
    doc.root = root
    redis.call('ZADD', prefix .. 'sub:' .. root, cid, cid)
    redis.call('HINCRBY', prefix .. 'kids', parent, 1)
  else
    doc.root = cid
    redis.call('ZADD', roots, cid, cid)
  end
  local encoded = cjson.encode(doc)
  redis.call('HSET', comments, cid, encoded)
  return cid, seq, encoded
end
