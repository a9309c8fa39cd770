#!/usr/bin/env node
// Load generator for bench/live_fanout.py and bench/scale_out.py: thousands of websocket readers and
// one poster in a single Node process (ws is cheaper per received message than
// any Python client, so the generator saturates after the server does).
//
//   node bench/live/loadgen.mjs CONFIG.json
//
// It is driven by bench/live_fanout.py over stdin/stdout, one JSON object per
// line:
//   1. opens every reader (at most `connect_concurrency` handshakes in flight);
//      a Rejoinder reader sends its hello and is ready at {"type":"ready"},
//      a bare reader (protocol "bare") is ready when the socket opens;
//      prints {"event":"connected", ...}
//   2. waits for the line "post" (or "quit") on stdin, at most `command_timeout_s`;
//   3. prints {"event":"post_start"}, posts `messages` comments following `plan`
//      (message k goes to thread plan[k]) at `rate` per second, or back to back
//      (rate 0: the next POST when the previous one returned and fewer than
//      `window` messages are still on their way to some reader), waits until every
//      reader has every message of its thread or `drain_timeout_s` passed, and
//      prints {"event":"post_end"} then {"event":"result", ...};
//   4. closes every socket and exits.
//
// Each comment carries "bench:<k>:<t_us>" where t_us is the *scheduled* send
// time on this process's monotonic clock, so a poster that falls behind shows
// as latency (no coordinated omission). Every frame is searched for the marker
// and for the server's "seq": per reader we count deliveries, duplicates,
// out-of-order arrivals, and gaps/backward steps in the thread's sequence.
// A reader that the server closes with a "resume" code (4000, 1001, 1012, 1011,
// 1006) reconnects with ?since=<last seq> as the widget does, at most
// `max_resumes` times; these are counted.
//
// Several nodes (bench/scale_out.py): a thread's `ws` and `post` may be lists of
// URLs, one per node: the j-th reader of thread t connects to ws[(j + t) % ws.length];
// message k is posted through post[k % post.length]. A reader that resumes stays on
// its node. The result then adds, per (reader's node, posting node), deliveries and
// expected deliveries, and latency percentiles for same-node and cross-node
// deliveries: a comment posted through node A must reach the readers on B and C.
// With one URL each (bench/live_fanout.py), all of that is one node.
//
// Every loop is bounded in count and time; targets must be loopback.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import readline from 'node:readline';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const cfg = {
  protocol: 'rejoinder', origin: null, threads: [], plan: [], body: '{"text": "{marker}"}',
  post_headers: { 'Content-Type': 'application/json' }, messages: 0, rate: 2, window: 8,
  window_timeout_s: 10, connect_concurrency: 100, handshake_timeout_s: 30, connect_max_s: 300,
  drain_timeout_s: 30, max_time_s: 900, command_timeout_s: 1800, resume: true, max_resumes: 3,
  client_prefix: 'bench-reader-', sample_message: true, connect_retries: 3, run_id: `bench-${process.pid}-${Date.now()}`,
  ...JSON.parse(readFileSync(process.argv[2], 'utf8')),
};

// ------------------------------------------------------------------ checks
function loopback(u) {
  const h = new URL(u).hostname;
  return h.startsWith('127.') || h === 'localhost' || h === '[::1]';
}
const asList = (x) => (Array.isArray(x) ? x : x ? [x] : []);
for (const t of cfg.threads) {
  t.wsList = asList(t.ws);
  t.postList = asList(t.post);
  if (!t.wsList.length || [...t.wsList, ...t.postList].some((u) => !loopback(u))) fail('refusing a non-loopback target');
}
const NODES = Math.max(1, ...cfg.threads.map((t) => Math.max(t.wsList.length, t.postList.length)));
const M = cfg.messages;
if (cfg.plan.length !== M) fail('plan must name a thread for each message');

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
function fail(msg) { emit({ event: 'error', message: msg }); process.exit(2); }
const hardStop = setTimeout(() => { emit({ event: 'error', message: 'max_time_s exceeded' }); process.exit(3); },
  cfg.max_time_s * 1000);

const nowUs = () => performance.now() * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MARK = Buffer.from('bench:');
const SEQ = Buffer.from('"seq":');
const RESUME_CODES = new Set([4000, 1001, 1011, 1012, 1006]);

// ------------------------------------------------------------------ readers
const readers = [];
cfg.threads.forEach((t, ti) => {
  for (let j = 0; j < t.readers; j++) readers.push({ t: ti, node: (j + ti) % t.wsList.length });
});
const N = readers.length;
const seen = new Uint8Array(N * Math.max(M, 1)); // reader i has message k: seen[i * M + k]
const perThreadReady = new Int32Array(cfg.threads.length);
const perThreadNodeReady = new Int32Array(cfg.threads.length * NODES); // ready readers of thread t on node n
const postNode = new Int32Array(M); // node message k was posted through
const pairDelivered = new Float64Array(NODES * NODES); // [reader node * NODES + post node]
const pairExpected = new Float64Array(NODES * NODES);
let latSame = [], latCross = [];
const expectFor = new Int32Array(M); // readers expected to get message k (ready when posting began)
const count = new Int32Array(M); // distinct readers that got message k
const completeAt = new Float64Array(M);
const sched = new Float64Array(M);
const postOk = new Uint8Array(M);
const postRtt = [];
const stats = {
  delivered: 0, dup: 0, send_order_inversions: 0, seq_gap: 0, seq_back: 0, misrouted: 0, other_frames: 0, resync: 0,
  resumes: 0, resume_failed: 0, connect_failed: 0, connect_retried: 0, closed_early: 0, frame_bytes: 0, post_errors: 0, post_retries: 0,
  window_stalls: 0,
};
const closeCodes = {};
const connectErrors = {};
let lat = new Float64Array(1 << 16);
let nlat = 0, completed = 0, posting = false, shuttingDown = false, sample = null, lastRecv = 0, tFirst = 0;
let onProgress = null; // wakes the poster's window wait and the drain wait

function pushLat(x) {
  if (nlat === lat.length) { const a = new Float64Array(lat.length * 2); a.set(lat); lat = a; }
  lat[nlat++] = x;
}

function readInt(buf, k) {
  let v = 0, c, start = k;
  while ((c = buf[k]) >= 48 && c <= 57) { v = v * 10 + (c - 48); k++; }
  return k === start ? [-1, k] : [v, k];
}

function onFrame(r, ri, data) {
  const t = nowUs();
  // the thread's sequence number, if the frame has one
  const si = data.indexOf(SEQ);
  let seq = -1;
  if (si >= 0) [seq] = readInt(data, si + SEQ.length);
  const mi = data.indexOf(MARK);
  if (mi < 0) {
    // control frames: ready, resync, count.changed and other events without a marker
    let msg = null;
    try { msg = JSON.parse(data.toString()); } catch { stats.other_frames++; return; }
    if (msg.type === 'ready') {
      r.last = Math.max(r.last, msg.head | 0);
      if (!r.ready) { r.ready = true; r.resolveReady?.(true); }
      return;
    }
    if (msg.type === 'resync') { stats.resync++; return; }
    if (seq >= 0) seqStep(r, seq);
    stats.other_frames++;
    return;
  }
  const [k, k2] = readInt(data, mi + MARK.length);
  if (k < 0 || data[k2] !== 58) { stats.other_frames++; return; }
  const [ts] = readInt(data, k2 + 1);
  if (k >= M) { stats.other_frames++; return; }
  if (cfg.plan[k] !== r.t) { stats.misrouted++; return; }
  const idx = ri * M + k;
  if (seen[idx]) { stats.dup++; return; } // a duplicate is not also counted as a step back
  seen[idx] = 1;
  if (seq >= 0) seqStep(r, seq);
  if (k < r.lastMark) stats.send_order_inversions++; // committed in another order than sent (overlapping POSTs)
  else r.lastMark = k;
  pushLat(t - ts);
  if (r.node === postNode[k]) latSame.push(t - ts); else latCross.push(t - ts);
  pairDelivered[r.node * NODES + postNode[k]]++;
  stats.delivered++;
  stats.frame_bytes += data.length;
  if (sample === null && cfg.sample_message) sample = data.toString();
  lastRecv = t;
  if (++count[k] === expectFor[k] && expectFor[k] > 0) { completeAt[k] = t; completed++; }
  if (onProgress) onProgress();
}

function seqStep(r, seq) {
  if (r.last < 0) { r.last = seq; return; } // bare protocol: first frame sets the base
  if (seq <= r.last) stats.seq_back++;
  else if (seq > r.last + 1) stats.seq_gap++;
  if (seq > r.last) r.last = seq;
}

function openReader(ri) {
  const r = readers[ri];
  const th = cfg.threads[r.t];
  if (r.last === undefined) { r.last = cfg.protocol === 'bare' ? -1 : th.head; r.lastMark = -1; r.ready = false; }
  if (cfg.protocol === 'rejoinder-sse') return openStream(ri, r, th);
  const base = th.wsList[r.node];
  const url = cfg.protocol === 'rejoinder' ? `${base}?since=${r.last}` : base;
  return new Promise((resolve) => {
    let opened = false, settled = false;
    const done = (ok) => { if (!settled) { settled = true; resolve(ok); } };
    r.resolveReady = done;
    const ws = new WebSocket(url, {
      headers: cfg.origin ? { Origin: cfg.origin } : {}, perMessageDeflate: false, skipUTF8Validation: true,
      handshakeTimeout: cfg.handshake_timeout_s * 1000, maxPayload: 1 << 20,
    });
    r.ws = ws;
    ws.on('open', () => {
      opened = true;
      if (cfg.protocol === 'rejoinder') {
        const id = cfg.client_prefix + String(ri).padStart(8, '0');
        ws.send(JSON.stringify({ type: 'hello', client: id, token: null }));
      } else { r.ready = true; done(true); }
    });
    ws.on('message', (data) => onFrame(r, ri, data));
    ws.on('error', (e) => {
      const key = String(e.message).slice(0, 80);
      connectErrors[key] = (connectErrors[key] || 0) + 1;
    });
    ws.on('close', (code) => {
      if (shuttingDown) return;
      closeCodes[code] = (closeCodes[code] || 0) + 1;
      r.ready = false;
      done(false);
      if (!posting || !opened) return; // before the measurement a failure is a connect failure
      if (cfg.resume && RESUME_CODES.has(code) && (r.resumes | 0) < cfg.max_resumes) {
        r.resumes = (r.resumes | 0) + 1;
        stats.resumes++;
        setTimeout(() => { if (!shuttingDown) openReader(ri).then((ok) => { if (!ok) stats.resume_failed++; }); },
          50 + Math.random() * 200);
      } else {
        stats.closed_early++;
      }
    });
  });
}

// A Rejoinder reader over Server-Sent Events (GET .../stream?since=N, the widget's fallback where
// websockets are blocked): the same messages, one per event, "data: <json>" blocks. An answer that
// ends (five minutes, or the reader fell behind) is resumed from the last seq, like a 4000 close.
function openStream(ri, r, th) {
  const url = th.wsList[r.node].replace(/^ws/, 'http').replace(/\/live$/, '/stream') + `?since=${r.last}`;
  const id = cfg.client_prefix + String(ri).padStart(8, '0');
  return new Promise((resolve) => {
    let settled = false, opened = false;
    const done = (ok) => { if (!settled) { settled = true; resolve(ok); } };
    r.resolveReady = done;
    const ended = (why) => {
      if (shuttingDown) return;
      closeCodes[why] = (closeCodes[why] || 0) + 1;
      r.ready = false;
      done(false);
      if (!posting || !opened) return;
      if (cfg.resume && (r.resumes | 0) < cfg.max_resumes) {
        r.resumes = (r.resumes | 0) + 1;
        stats.resumes++;
        setTimeout(() => { if (!shuttingDown) openReader(ri).then((ok) => { if (!ok) stats.resume_failed++; }); },
          50 + Math.random() * 200);
      } else stats.closed_early++;
    };
    const req = http.get(url, {
      agent: false,
      headers: { ...(cfg.origin ? { Origin: cfg.origin } : {}), 'X-Rejoinder-Client': id, Accept: 'text/event-stream' },
    }, (res) => {
      if (res.statusCode !== 200) {
        const key = `HTTP ${res.statusCode}`;
        connectErrors[key] = (connectErrors[key] || 0) + 1;
        res.resume();
        done(false);
        return;
      }
      opened = true;
      let buf = null;
      res.on('data', (chunk) => {
        buf = buf ? Buffer.concat([buf, chunk]) : chunk;
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.subarray(0, end);
          buf = buf.subarray(end + 2);
          const at = block.indexOf('data: ');
          if (at >= 0) onFrame(r, ri, block.subarray(at + 6));
        }
        if (!buf.length) buf = null;
      });
      res.on('end', () => ended('stream ended'));
      res.on('error', () => ended('stream error'));
    });
    req.setTimeout(cfg.handshake_timeout_s * 1000 + 60000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => {
      const key = String(e.message).slice(0, 80);
      connectErrors[key] = (connectErrors[key] || 0) + 1;
      done(false);
    });
    r.ws = { terminate: () => req.destroy() };
  });
}

// ------------------------------------------------------------------ poster
let lastPostError = '';
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
function post(url, body, k) {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: { ...cfg.post_headers, 'Idempotency-Key': `${cfg.run_id}-${k}`, 'Content-Length': Buffer.byteLength(body) },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.setTimeout(30000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => { lastPostError = String(e.message).slice(0, 120); resolve(0); });
    req.end(body);
  });
}

async function publish(k, tSched) {
  const th = cfg.threads[cfg.plan[k]];
  const postUrl = th.postList[k % th.postList.length];
  const body = cfg.body.replaceAll('{marker}', `bench:${k}:${Math.round(tSched)}`).replaceAll('{n}', String(k));
  const t0 = nowUs();
  let st = await post(postUrl, body, k);
  // a kept-alive connection the server closed just then (ECONNRESET): retry once, as a client
  // would; the Idempotency-Key makes a retry of a POST that did land return the same comment
  if (st === 0) { stats.post_retries++; st = await post(postUrl, body, k); }
  postRtt.push((nowUs() - t0) / 1000);
  if (st >= 200 && st < 300) postOk[k] = 1;
  else { stats.post_errors++; if (stats.post_errors <= 3) emit({ event: 'log', message: `POST ${k} -> ${st || lastPostError}` }); }
}

function waitProgress(ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { onProgress = null; resolve(false); }, ms);
    onProgress = () => { clearTimeout(timer); onProgress = null; resolve(true); };
  });
}

async function runPosts() {
  perThreadReady.fill(0);
  perThreadNodeReady.fill(0);
  for (const r of readers) if (r.ready) { perThreadReady[r.t]++; perThreadNodeReady[r.t * NODES + r.node]++; }
  for (let k = 0; k < M; k++) {
    const th = cfg.threads[cfg.plan[k]];
    expectFor[k] = perThreadReady[cfg.plan[k]];
    postNode[k] = th.postList.length ? (k % th.postList.length) : 0;
  }
  const tStart = nowUs() + 50000;
  tFirst = tStart;
  const pending = [];
  let skipped = 0; // posted messages that nobody waits for (failed POST, thread without readers)
  for (let k = 0; k < M; k++) {
    if (cfg.rate > 0) {
      const ts = tStart + (k * 1e6) / cfg.rate;
      const d = (ts - nowUs()) / 1000;
      if (d > 0) await sleep(d);
      sched[k] = ts;
      pending.push(publish(k, ts));
    } else {
      if (k === 0) { const d = (tStart - nowUs()) / 1000; if (d > 0) await sleep(d); }
      if (cfg.window > 0) {
        // at most `window` messages still on their way to some reader; one that never
        // completes (a reader lost it) stalls the poster at most window_timeout_s
        const until = nowUs() + cfg.window_timeout_s * 1e6;
        while (k - skipped - completed >= cfg.window && nowUs() < until) {
          await waitProgress(Math.max(1, (until - nowUs()) / 1000));
        }
        if (k - skipped - completed >= cfg.window) { stats.window_stalls++; skipped++; }
      }
      const ts = nowUs();
      sched[k] = ts;
      if (k === 0) tFirst = ts;
      await publish(k, ts);
      if (!postOk[k] || expectFor[k] === 0) skipped++;
    }
  }
  await Promise.all(pending);
}

function totalExpected() {
  let s = 0;
  for (let k = 0; k < M; k++) {
    if (!postOk[k]) continue;
    s += expectFor[k];
    for (let n = 0; n < NODES; n++) pairExpected[n * NODES + postNode[k]] += perThreadNodeReady[cfg.plan[k] * NODES + n];
  }
  return s;
}

// ------------------------------------------------------------------ helpers
function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))))];
}
const r2 = (x) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);

function lines() {
  const rl = readline.createInterface({ input: process.stdin });
  const queue = [], waiters = [];
  rl.on('line', (l) => { const w = waiters.shift(); if (w) w(l.trim()); else queue.push(l.trim()); });
  rl.on('close', () => { for (const w of waiters.splice(0)) w('quit'); queue.push('quit'); });
  return (ms) => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), ms);
    waiters.push((l) => { clearTimeout(timer); resolve(l); });
  }));
}

async function shutdown(code) {
  shuttingDown = true;
  for (const r of readers) { try { r.ws?.terminate(); } catch {} }
  agent.destroy();
  clearTimeout(hardStop);
  await sleep(200);
  process.exit(code);
}

// ------------------------------------------------------------------ main
const nextLine = lines();
const t0 = performance.now();
let next = 0, progressAt = 2000;
const connectDeadline = t0 + cfg.connect_max_s * 1000;
await Promise.all(Array.from({ length: Math.min(cfg.connect_concurrency, N) }, async () => {
  while (next < N && performance.now() < connectDeadline) {
    const ri = next++;
    // a refused or failed handshake is retried (the widget retries too), at most connect_retries times
    let ok = await openReader(ri);
    for (let a = 0; !ok && a < cfg.connect_retries && performance.now() < connectDeadline; a++) {
      stats.connect_retried++;
      await sleep(500 + Math.random() * 500);
      ok = await openReader(ri);
    }
    if (!ok) stats.connect_failed++;
    if (next >= progressAt) { progressAt += 2000; emit({ event: 'log', message: `${next}/${N} readers opened` }); }
  }
}));
const ready = readers.reduce((a, r) => a + (r.ready ? 1 : 0), 0);
emit({
  event: 'connected', readers: N, ready, connect_failed: N - ready, connect_retried: stats.connect_retried, connect_s: r2((performance.now() - t0) / 1000),
  close_codes: closeCodes, errors: connectErrors,
  node: process.version, ws: JSON.parse(readFileSync(new URL('./node_modules/ws/package.json', import.meta.url))).version,
  per_node_ready: Array.from({ length: NODES }, (_, n) => readers.filter((r) => r.ready && r.node === n).length),
});

const cmd = await nextLine(cfg.command_timeout_s * 1000);
if (cmd !== 'post') { emit({ event: 'bye', command: cmd }); await shutdown(0); }

for (const k of Object.keys(closeCodes)) delete closeCodes[k];
const cpu0 = process.cpuUsage();
const wall0 = nowUs();
emit({ event: 'post_start' });
posting = true;
await runPosts();
const tPostsDone = nowUs();
const expected = totalExpected();
const drainUntil = nowUs() + cfg.drain_timeout_s * 1e6;
while (stats.delivered < expected && nowUs() < drainUntil) await waitProgress(Math.max(1, (drainUntil - nowUs()) / 1000));
const wall1 = nowUs();
const cpu = process.cpuUsage(cpu0);
emit({ event: 'post_end' });

const L = Array.from(lat.subarray(0, nlat)).sort((a, b) => a - b).map((x) => x / 1000);
const LS = latSame.sort((a, b) => a - b).map((x) => x / 1000);
const LC = latCross.sort((a, b) => a - b).map((x) => x / 1000);
const pairs = [];
for (let n = 0; n < NODES; n++) for (let p = 0; p < NODES; p++) {
  pairs.push({ reader_node: n, post_node: p, delivered: pairDelivered[n * NODES + p], expected: pairExpected[n * NODES + p] });
}
let crossDelivered = 0, crossExpected = 0;
for (const x of pairs) if (x.reader_node !== x.post_node) { crossDelivered += x.delivered; crossExpected += x.expected; }
const complete = [];
for (let k = 0; k < M; k++) if (postOk[k] && expectFor[k] > 0 && count[k] >= expectFor[k]) complete.push((completeAt[k] - sched[k]) / 1000);
complete.sort((a, b) => a - b);
const rtt = postRtt.sort((a, b) => a - b);
const busyS = (wall1 - wall0) / 1e6;
const windowS = nlat ? (lastRecv - tFirst) / 1e6 : null;
emit({
  event: 'result',
  readers: N, ready, messages: M, posted_ok: postOk.reduce((a, x) => a + x, 0), rate: cfg.rate, window: cfg.window,
  expected, delivered: stats.delivered, lost: expected - stats.delivered,
  duplicates: stats.dup, out_of_order: stats.seq_back, seq_gaps: stats.seq_gap, seq_backward: stats.seq_back,
  send_order_inversions: stats.send_order_inversions,
  misrouted: stats.misrouted, resync: stats.resync, resumes: stats.resumes, resume_failed: stats.resume_failed,
  closed_early: stats.closed_early, close_codes: closeCodes, post_errors: stats.post_errors,
  post_retries: stats.post_retries,
  window_stalls: stats.window_stalls, other_frames: stats.other_frames,
  lat_p50_ms: r2(pct(L, 50)), lat_p90_ms: r2(pct(L, 90)), lat_p99_ms: r2(pct(L, 99)), lat_max_ms: r2(L.length ? L[L.length - 1] : null),
  last_reader_p50_ms: r2(pct(complete, 50)), last_reader_p99_ms: r2(pct(complete, 99)),
  last_reader_max_ms: r2(complete.length ? complete[complete.length - 1] : null), complete_messages: complete.length,
  post_rtt_p50_ms: r2(pct(rtt, 50)), post_rtt_p99_ms: r2(pct(rtt, 99)),
  deliveries_per_s: windowS ? Math.round(stats.delivered / windowS) : 0, delivery_window_s: r2(windowS),
  posting_s: r2((tPostsDone - tFirst) / 1e6), measured_s: r2(busyS),
  client_cpu_pct: r2((100 * (cpu.user + cpu.system)) / 1e6 / busyS),
  mean_frame_bytes: stats.delivered ? Math.round(stats.frame_bytes / stats.delivered) : null,
  sample_message: sample,
  nodes: NODES, pairs, cross_delivered: crossDelivered, cross_expected: crossExpected,
  same_p50_ms: r2(pct(LS, 50)), same_p99_ms: r2(pct(LS, 99)), cross_p50_ms: r2(pct(LC, 50)), cross_p99_ms: r2(pct(LC, 99)),
});
await nextLine(10000); // the driver may read the server's state before sockets close
await shutdown(0);
