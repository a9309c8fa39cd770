-- wrk script for bench/scale_out.py's simulated host: a mix of whole-thread
-- reads (as the widget does them) and comment creates, spread over many sites
-- and threads. One connection per wrk thread (-tN -cN), closed loop.
--
-- A "sequence" is either
--   a read:  GET /api/threads?site=S&page=P&limit=L, then the page named by
--            "next" (GET /api/threads/{tid}?limit=L&cursor=...) until "next"
--            is null: the widget's read of the whole thread;
--   a write: POST /api/threads/{tid}/comments with a unique ~190-byte comment.
-- Which thread: the site is drawn from MIX_DIST ("zipf": rank r has weight
-- 1/r^MIX_ZIPF_S over the sites in file order; "uniform"), then one of that
-- site's threads uniformly. Each wrk thread has its own seeded generator.
--
-- Environment (set by bench/scale_out.py):
--   MIX_THREADS   file, one line per thread: "<site> <page> <tid>", grouped by site
--   MIX_WRITE     fraction of sequences that are writes (0.1)
--   MIX_DIST      zipf | uniform;  MIX_ZIPF_S  Zipf exponent (1.0)
--   MIX_LIMIT     page size of a read (100)
--   MIX_MAX       sequences in total (split across threads); wrk's -d is the time cap
--   MIX_THREADS_N the -t given to wrk;  MIX_OUT  folder for t<k>.txt logs;  MIX_TAG  text for unique bodies
--   MIX_SEED      base seed
-- Log line per sequence: "<start us> <end us> <kind 0=read 1=write> <pages> <status>"
-- (status = first non-2xx, or 200).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } mix_timespec;
int clock_gettime(int clk, mix_timespec *ts);
int getpid(void);
long syscall(long number, ...);
]]
local SYS_tgkill, SIGINT = 234, 2 -- x86_64

local tsbuf = ffi.new("mix_timespec")
local function now_us()
  ffi.C.clock_gettime(1, tsbuf)
  return tonumber(tsbuf.tv_sec) * 1000000 + math.floor(tonumber(tsbuf.tv_nsec) / 1000)
end

local threads_file = os.getenv("MIX_THREADS")
local write_frac = tonumber(os.getenv("MIX_WRITE") or "0.1")
local dist = os.getenv("MIX_DIST") or "zipf"
local zipf_s = tonumber(os.getenv("MIX_ZIPF_S") or "1.0")
local limit = os.getenv("MIX_LIMIT") or "100"
local max_total = tonumber(os.getenv("MIX_MAX") or "0") or 0
local nthreads = tonumber(os.getenv("MIX_THREADS_N") or "1") or 1
local outdir = os.getenv("MIX_OUT") or "."
local tag = os.getenv("MIX_TAG") or "x"
local seed = tonumber(os.getenv("MIX_SEED") or "1") or 1

local LOREM = "Lorem ipsum dolor sit amet, *consectetur* adipiscing elit, sed do eiusmod tempor " ..
  "incididunt ut labore et dolore magna aliqua."

-- ------------------------------------------------------------ main thread
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
local sites, cum = {}, {}
local headers_get, headers_post = {}, {}
local n, finished = 0, 0
local cursor, cur_tid = nil, nil
local seq_start, kind, pages, status_seen = 0, 0, 0, 200
local stopped = false

function init(args)
  k = wrk.thread:get("k")
  flags = ffi.cast("volatile int32_t *", wrk.thread:get("flags"))
  math.randomseed(seed * 1000 + k)
  if max_total > 0 then
    share = math.floor(max_total / nthreads)
    if k <= max_total % nthreads then share = share + 1 end
  else
    share = 0
  end
  local by_site = {}
  for line in io.lines(threads_file) do
    local s, p, t = string.match(line, "^(%S+) (%S+) (%S+)$")
    if s then
      if not by_site[s] then
        by_site[s] = {}
        sites[#sites + 1] = { id = s, threads = by_site[s] }
      end
      local list = by_site[s]
      list[#list + 1] = { page = p, tid = t }
    end
  end
  local total = 0
  for i = 1, #sites do
    local w = 1.0
    if dist == "zipf" then w = 1.0 / (i ^ zipf_s) end
    total = total + w
    cum[i] = total
  end
  for i = 1, #sites do cum[i] = cum[i] / total end
  local client = "bench-host-" .. k .. "-0123456789"
  headers_get["X-Rejoinder-Client"] = client
  headers_post["X-Rejoinder-Client"] = client
  headers_post["Content-Type"] = "application/json"
  out = io.open(outdir .. "/t" .. k .. ".txt", "w")
  out:setvbuf("line")
  if share == 0 and max_total > 0 then flags[k] = 1 end
end

local function pick_site()
  local x = math.random()
  local lo, hi = 1, #sites
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cum[mid] < x then lo = mid + 1 else hi = mid end
  end
  return sites[lo]
end

local function wake_main()
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
  if cursor then
    return wrk.format("GET", "/api/threads/" .. cur_tid .. "?limit=" .. limit .. "&cursor=" .. cursor, headers_get)
  end
  seq_start, pages, status_seen = now_us(), 0, 200
  local site = pick_site()
  local th = site.threads[math.random(#site.threads)]
  cur_tid = th.tid
  if math.random() < write_frac then
    kind = 1
    n = n + 1
    local body = '{"text": "Host comment ' .. tag .. "-" .. k .. "-" .. n .. ". " .. LOREM .. '", "name": "Bench User"}'
    return wrk.format("POST", "/api/threads/" .. th.tid .. "/comments", headers_post, body)
  end
  kind = 0
  return wrk.format("GET", "/api/threads?site=" .. site.id .. "&page=" .. th.page .. "&limit=" .. limit, headers_get)
end

local woke = false
function response(status, hdrs, body)
  pages = pages + 1
  local nxt = nil
  if status < 200 or status > 299 then
    status_seen = status
  elseif kind == 0 then
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
    if not woke and all_done() then
      woke = true
      wake_main()
    end
    return
  end
  out:write(seq_start, " ", now_us(), " ", kind, " ", pages, " ", status_seen, "\n")
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
  io.write(string.format('MIX_WRK {"requests": %d, "duration_us": %d, "err_connect": %d, "err_read": %d, ' ..
    '"err_write": %d, "err_timeout": %d, "err_status": %d}\n', summary.requests, summary.duration,
    e.connect, e.read, e.write, e.timeout, e.status))
end
