-- wrk script for bench/core_http.py: one connection per wrk thread, each
-- thread runs "sequences" back to back and logs every sequence's latency.
--
-- A sequence is one request (a create, or Isso's one-request thread fetch), or
-- the widget's read of a whole thread: the first page, then the page named by
-- the answer's "next" cursor, until "next" is null.
--
-- Run with -tN -cN (one connection per thread: a thread's Lua state then
-- belongs to one connection, so a sequence's pages are chained correctly).
--
-- Environment (set by core_http.py):
--   SEQ_PATH     path of a sequence's first request
--   SEQ_NEXT     path prefix the "next" cursor is appended to; "" = one request per sequence
--   SEQ_METHOD   GET | POST
--   SEQ_BODY     body template; "{n}" becomes a per-request unique token
--   SEQ_HEADERS  extra headers, "Name: value|Name2: value2"; "{t}" becomes the thread number
--   SEQ_MAX      sequences in total (split across threads); the run stops when all are done
--   SEQ_THREADS  the -t given to wrk
--   SEQ_OUT      folder: each thread writes t<k>.txt, one line per sequence:
--                "<start us> <end us> <pages> <bytes> <status>" (status = first non-2xx, or 200)
--   SEQ_TAG      text mixed into {n} so bodies stay unique across runs
-- wrk's -d is the hard time cap; the count bound stops it earlier.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } seq_timespec;
int clock_gettime(int clk, seq_timespec *ts);
int getpid(void);
long syscall(long number, ...);
]]
local SYS_tgkill, SIGINT = 234, 2 -- x86_64

local tsbuf = ffi.new("seq_timespec")
local function now_us()
  ffi.C.clock_gettime(1, tsbuf) -- CLOCK_MONOTONIC, same clock as Python's time.monotonic()
  return tonumber(tsbuf.tv_sec) * 1000000 + math.floor(tonumber(tsbuf.tv_nsec) / 1000)
end

local first_path = os.getenv("SEQ_PATH") or "/"
local next_prefix = os.getenv("SEQ_NEXT") or ""
local method = os.getenv("SEQ_METHOD") or "GET"
local body_tpl = os.getenv("SEQ_BODY")
local header_spec = os.getenv("SEQ_HEADERS") or ""
local max_total = tonumber(os.getenv("SEQ_MAX") or "0") or 0
local nthreads = tonumber(os.getenv("SEQ_THREADS") or "1") or 1
local outdir = os.getenv("SEQ_OUT") or "."
local tag = os.getenv("SEQ_TAG") or "x"

-- ------------------------------------------------------------ main thread
-- done_flags lives in the main Lua state for the whole run; worker threads
-- get its address and mark their slot when they finished their share.
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  if done_flags == nil then
    done_flags = ffi.new("int32_t[?]", 4096)
  end
  thread:set("k", thread_count)
  thread:set("flags", tonumber(ffi.cast("intptr_t", done_flags)))
end

-- ---------------------------------------------------------- worker threads
local k, share, flags, out
local headers = {}
local n, finished = 0, 0
local cursor = nil
local seq_start, pages, bytes, status_seen = 0, 0, 0, 200
local stopped = false

function init(args)
  k = wrk.thread:get("k")
  flags = ffi.cast("volatile int32_t *", wrk.thread:get("flags"))
  if max_total > 0 then
    share = math.floor(max_total / nthreads)
    if k <= max_total % nthreads then share = share + 1 end
  else
    share = 0
  end
  for h in string.gmatch(header_spec, "[^|]+") do
    local name, value = string.match(h, "^%s*([^:]+):%s*(.*)$")
    if name then headers[name] = string.gsub(value, "{t}", tostring(k)) end
  end
  if body_tpl then headers["Content-Type"] = "application/json" end
  out = io.open(outdir .. "/t" .. k .. ".txt", "w")
  out:setvbuf("line") -- a thread stopped by the time cap never closes its file
  if share == 0 and max_total > 0 then
    flags[k] = 1 -- more threads than sequences: this one has nothing to do
  end
end

local function wake_main()
  -- wake wrk's main thread (its tid is the pid) out of its -d sleep
  local pid = ffi.C.getpid()
  ffi.C.syscall(SYS_tgkill, ffi.cast("long", pid), ffi.cast("long", pid), ffi.cast("long", SIGINT))
end

local function all_done()
  for i = 1, nthreads do
    if flags[i] == 0 then return false end
  end
  return true
end

function request()
  local path = first_path
  if cursor then
    path = next_prefix .. cursor
  else
    seq_start, pages, bytes, status_seen = now_us(), 0, 0, 200
  end
  local body = nil
  if body_tpl then
    n = n + 1
    body = string.gsub(body_tpl, "{n}", tag .. "-" .. k .. "-" .. n)
  end
  return wrk.format(method, path, headers, body)
end

local woke = false
function response(status, hdrs, body)
  pages = pages + 1
  bytes = bytes + #body
  local nxt = nil
  if status < 200 or status > 299 then
    status_seen = status
  elseif next_prefix ~= "" then
    -- "next" is near the end of the answer (only "me" follows it): look there first
    local from = #body > 1024 and #body - 1024 or 1
    local pos = string.find(body, '"next":', from, true) or string.find(body, '"next":', 1, true)
    if pos then nxt = string.match(body, '^"next":"([^"]+)"', pos) end
  end
  if nxt then
    cursor = nxt
    return
  end
  cursor = nil
  if stopped then
    -- This thread did its share: it keeps its connection busy, unrecorded,
    -- until every thread is done, so the load stays at -c to the end (and no
    -- connected socket is left without a request: a sync server such as
    -- Isso's gunicorn would block a worker on it until its 30-s timeout).
    if not woke and all_done() then
      woke = true
      wake_main()
    end
    return
  end
  out:write(seq_start, " ", now_us(), " ", pages, " ", bytes, " ", status_seen, "\n")
  finished = finished + 1
  if share > 0 and finished >= share then
    stopped = true
    flags[k] = 1
    if all_done() then
      woke = true
      wake_main()
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('SEQ_WRK {"requests": %d, "duration_us": %d, "err_connect": %d, "err_read": %d, ' ..
    '"err_write": %d, "err_timeout": %d, "err_status": %d}\n', summary.requests, summary.duration,
    e.connect, e.read, e.write, e.timeout, e.status))
end
