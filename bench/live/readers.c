/* A cheaper load generator for one thread's live fan-out (bench/live_fanout.py, phases "...-c").
 *
 * bench/live/loadgen.mjs (Node + ws) spends ~15 us of a core per frame it receives, so with 10,000
 * readers of one thread it needs ~150 ms of one core to read a single comment's frames: the last
 * reader's latency is then the load generator's, whatever the server does. This client reads the
 * same websockets with one epoll loop in C (a few us per frame), so the latency it measures is closer
 * to what 10,000 separate browsers would see. It speaks the same line protocol to the driver as
 * loadgen.mjs, for its simplest case: one thread, websockets, a poster at a fixed rate.
 *
 *   readers --port P --ws-path PATH --post-path PATH --readers N --messages M --rate R
 *           [--protocol rejoinder|bare] [--origin O] [--head H] [--body TEMPLATE] [--header "K: V"]...
 *           [--connect-concurrency C] [--connect-max-s S] [--drain-timeout-s S] [--max-time-s S]
 *           [--command-timeout-s S] [--run-id ID]
 *
 * stdout, one JSON object a line: {"event":"connected",...}, then (after the line "post" on stdin)
 * {"event":"post_start"}, {"event":"post_end"}, {"event":"result",...} with loadgen.mjs's keys.
 * Each comment carries "bench:<k>:<t_us>", t_us its *scheduled* send time on CLOCK_MONOTONIC, so a
 * poster that falls behind shows as latency. Every loop is bounded in count and time; the target is
 * 127.0.0.1 only. Readers the server closes are counted (closed_early), not resumed.
 *
 * Build: gcc -O2 -o readers readers.c (bench/live_fanout.py does, into bench/.work/).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { IDLE, CONNECTING, HANDSHAKE, OPEN, DONE };
#define TAG_STDIN (-1)
#define TAG_POST_BASE (1 << 30)
#define MAX_HEADERS 16
#define MAX_LEFT (1 << 20)

typedef struct {
  int fd, state, tries, ready;
  long long last;          /* the thread's last seq this reader saw (-1: none yet, bare) */
  int last_mark;           /* highest message index seen */
  double retry_at;         /* us: when a failed connect may be tried again */
  char *left; int nleft;   /* bytes of an unfinished frame (or handshake answer) */
} Reader;

typedef struct { int fd, k; double t0; char buf[256]; int n; } Post;

static int port, nreaders, nmessages, connect_conc = 100, bare;
static double rate = 2, connect_max_s = 300, drain_s = 30, max_time_s = 900, command_s = 1800;
static const char *ws_path, *post_path, *origin = "", *body_tpl = "{\"text\": \"{marker}\"}", *run_id = "bench-c";
static const char *headers[MAX_HEADERS]; static int nheaders;
static long long head;
static Reader *R;
static unsigned char *seen;
static int *count_k, *expect_k, *post_ok;
static double *sched_k, *complete_k, *lat, *rtt;
static long nlat, nrtt;
static int ep, ready_n, completed;
static double t_start_us, t_first, last_recv;
static char *sample;
static struct {
  long delivered, dup, seq_gap, seq_back, other, resync, closed_early, connect_failed, connect_retried;
  long post_errors, frame_bytes, inversions, misrouted;
} S;
static long close_codes[5000]; /* by code, 1000..4999 (others in [0]) */
static char errors_json[4096]; static int nerr;

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void emit(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

static void die(const char *msg) { emit("{\"event\":\"error\",\"message\":\"%s\"}", msg); exit(2); }

static void note_error(const char *what) {
  if (nerr++ < 20 && strlen(errors_json) + strlen(what) + 8 < sizeof errors_json) {
    if (errors_json[0]) strcat(errors_json, ",");
    strcat(errors_json, "\""); strcat(errors_json, what); strcat(errors_json, "\"");
  }
}

static void watch(int fd, uint32_t events, long tag, int op) {
  struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)tag};
  if (epoll_ctl(ep, op, fd, &ev) < 0 && op != EPOLL_CTL_DEL) die("epoll_ctl");
}

static int tcp_to(int p, int nonblock) {
  int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) { close(fd); return -1; }
  return fd;
}

static void send_all(int fd, const char *buf, size_t n) {
  while (n) {  /* small writes on a fresh socket: the kernel takes them at once */
    ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
    if (w <= 0) { if (w < 0 && errno == EINTR) continue; return; }
    buf += w; n -= (size_t)w;
  }
}

/* A client frame: FIN, `opcode`, masked (the mask is zero: the bytes go as they are). */
static void send_frame(int fd, int opcode, const char *payload, size_t n) {
  char frame[512];
  if (n > 125 || n + 6 > sizeof frame) return;
  frame[0] = (char)(0x80 | opcode); frame[1] = (char)(0x80 | n);
  memset(frame + 2, 0, 4);
  memcpy(frame + 6, payload, n);
  send_all(fd, frame, n + 6);
}

static void start_connect(int i) {
  Reader *r = &R[i];
  r->fd = tcp_to(port, 1);
  if (r->fd < 0) { r->state = IDLE; r->retry_at = now_us() + 500000; note_error("socket"); return; }
  r->state = CONNECTING;
  watch(r->fd, EPOLLOUT | EPOLLIN, i, EPOLL_CTL_ADD);
}

static void drop(int i, int code) {
  Reader *r = &R[i];
  if (r->fd >= 0) { epoll_ctl(ep, EPOLL_CTL_DEL, r->fd, NULL); close(r->fd); r->fd = -1; }
  free(r->left); r->left = NULL; r->nleft = 0;
  if (r->ready) ready_n--;
  int was_open = r->state == OPEN;
  r->ready = 0;
  close_codes[code >= 1000 && code < 5000 ? code : 0]++;
  if (!was_open && r->tries < 3 && t_start_us == 0) {  /* a failed handshake is retried, as the widget does */
    r->tries++; S.connect_retried++; r->state = IDLE; r->retry_at = now_us() + 500000 + rand() % 500000;
  } else {
    r->state = DONE;
    if (t_start_us != 0) S.closed_early++; else S.connect_failed++;
  }
}

static long long read_int(const char *p, const char *end, const char **after) {
  long long v = 0; const char *s = p;
  while (p < end && *p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
  if (after) *after = p;
  return p == s ? -1 : v;
}

static void seq_step(Reader *r, long long seq) {
  if (r->last < 0) { r->last = seq; return; }
  if (seq <= r->last) S.seq_back++;
  else if (seq > r->last + 1) S.seq_gap++;
  if (seq > r->last) r->last = seq;
}

static void on_message(int i, const char *p, size_t n, double t) {
  Reader *r = &R[i];
  const char *end = p + n;
  const char *si = memmem(p, n, "\"seq\":", 6);
  long long seq = si ? read_int(si + 6, end, NULL) : -1;
  const char *mi = memmem(p, n, "bench:", 6);
  if (!mi) {
    if (memmem(p, n, "\"type\":\"ready\"", 14)) {
      const char *hi = memmem(p, n, "\"head\":", 7);
      long long h = hi ? read_int(hi + 7, end, NULL) : -1;
      if (h > r->last) r->last = h;
      if (!r->ready) { r->ready = 1; ready_n++; }
      return;
    }
    if (memmem(p, n, "\"type\":\"resync\"", 15)) { S.resync++; return; }
    if (seq >= 0) seq_step(r, seq);
    S.other++;
    return;
  }
  const char *q;
  long long k = read_int(mi + 6, end, &q);
  if (k < 0 || q >= end || *q != ':' || k >= nmessages) { S.other++; return; }
  long long ts = read_int(q + 1, end, NULL);
  long idx = (long)i * nmessages + k;
  if (seen[idx]) { S.dup++; return; }
  seen[idx] = 1;
  if (seq >= 0) seq_step(r, seq);
  if (k < r->last_mark) S.inversions++; else r->last_mark = (int)k;
  lat[nlat++] = t - (double)ts;
  S.delivered++;
  S.frame_bytes += (long)n;
  if (!sample) { sample = malloc(n + 1); memcpy(sample, p, n); sample[n] = 0; }
  last_recv = t;
  if (++count_k[k] == expect_k[k] && expect_k[k] > 0) { complete_k[k] = t; completed++; }
}

/* Frames in buf[0..n): handled; returns the bytes used (the rest is an unfinished frame). */
static size_t frames(int i, const char *buf, size_t n, double t) {
  size_t at = 0;
  while (n - at >= 2) {
    const unsigned char *h = (const unsigned char *)buf + at;
    int opcode = h[0] & 0x0f;
    uint64_t len = h[1] & 0x7f; size_t hl = 2;
    if (len == 126) { if (n - at < 4) break; len = ((uint64_t)h[2] << 8) | h[3]; hl = 4; }
    else if (len == 127) {
      if (n - at < 10) break;
      len = 0; for (int b = 0; b < 8; b++) len = (len << 8) | h[2 + b];
      hl = 10;
    }
    if (len > MAX_LEFT) { drop(i, 0); return n; }
    if (n - at < hl + len) break;
    const char *payload = buf + at + hl;
    if (opcode == 1 || opcode == 2) on_message(i, payload, len, t);
    else if (opcode == 9) send_frame(R[i].fd, 10, payload, len);            /* ping: pong */
    else if (opcode == 8) { drop(i, len >= 2 ? ((unsigned char)payload[0] << 8) | (unsigned char)payload[1] : 1005); return n; }
    else if (opcode == 0) S.other++;                                          /* continuation: not expected */
    at += hl + len;
  }
  return at;
}

static char rbuf[1 << 18];

static void on_readable(int i) {
  Reader *r = &R[i];
  for (int rounds = 0; rounds < 64 && r->fd >= 0; rounds++) {
    size_t off = 0;
    if (r->nleft) { memcpy(rbuf, r->left, r->nleft); off = r->nleft; }
    ssize_t got = recv(r->fd, rbuf + off, sizeof rbuf - off, 0);
    if (got == 0) { drop(i, 1006); return; }
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      drop(i, 1006); return;
    }
    size_t n = off + (size_t)got, used = 0;
    double t = now_us();
    if (r->state == HANDSHAKE) {
      char *endh = memmem(rbuf, n, "\r\n\r\n", 4);
      if (!endh) used = 0;
      else {
        if (n < 12 || memcmp(rbuf + 9, "101", 3) != 0) {
          char what[40]; snprintf(what, sizeof what, "HTTP %.3s", n >= 12 ? rbuf + 9 : "???");
          note_error(what); drop(i, 0); return;
        }
        r->state = OPEN;
        used = (size_t)(endh + 4 - rbuf);
        if (bare) { r->ready = 1; ready_n++; }
        else {
          char hello[128];
          int hn = snprintf(hello, sizeof hello, "{\"type\":\"hello\",\"client\":\"bench-reader-%08d\",\"token\":null}", i);
          send_frame(r->fd, 1, hello, (size_t)hn);
        }
      }
    }
    if (r->state == OPEN) used += frames(i, rbuf + used, n - used, t);
    if (r->fd < 0) return;
    size_t rest = n - used;
    if (rest > MAX_LEFT) { drop(i, 0); return; }
    if (rest) { r->left = realloc(r->left, rest); memcpy(r->left, rbuf + used, rest); }
    else { free(r->left); r->left = NULL; }
    r->nleft = (int)rest;
    if ((size_t)got < sizeof rbuf - off) return;  /* the socket is drained */
  }
}

static void on_connected(int i) {
  Reader *r = &R[i];
  int err = 0; socklen_t el = sizeof err;
  getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &el);
  if (err) { note_error(strerror(err)); drop(i, 0); return; }
  char req[1024], since[64] = "";
  if (!bare) snprintf(since, sizeof since, "?since=%lld", head);  /* a Rejoinder reader resumes from the head */
  int n = snprintf(req, sizeof req,
                   "GET %s%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: cmVqb2luZGVyLWJlbmNoIQ==\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                   ws_path, since, port, origin[0] ? "Origin: " : "", origin, origin[0] ? "\r\n" : "");
  send_all(r->fd, req, (size_t)n);
  r->state = HANDSHAKE;
  watch(r->fd, EPOLLIN, i, EPOLL_CTL_MOD);
}

/* ------------------------------------------------------------------ the poster */

static Post *posts;

static void post(int k, double ts) {
  char marker[64], body[8192], req[16384], num[16];
  snprintf(marker, sizeof marker, "bench:%d:%.0f", k, ts);
  snprintf(num, sizeof num, "%d", k);
  size_t bn = 0;
  for (const char *p = body_tpl; *p && bn < sizeof body - 64;) {
    if (!strncmp(p, "{marker}", 8)) { bn += (size_t)snprintf(body + bn, sizeof body - bn, "%s", marker); p += 8; }
    else if (!strncmp(p, "{n}", 3)) { bn += (size_t)snprintf(body + bn, sizeof body - bn, "%s", num); p += 3; }
    else body[bn++] = *p++;
  }
  int n = snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                   "Idempotency-Key: %s-%d\r\nContent-Length: %zu\r\n", post_path, port, run_id, k, bn);
  for (int h = 0; h < nheaders; h++) n += snprintf(req + n, sizeof req - (size_t)n, "%s\r\n", headers[h]);
  n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
  if ((size_t)n + bn >= sizeof req) die("request too long");
  memcpy(req + n, body, bn);
  Post *p = &posts[k];
  p->k = k; p->t0 = now_us(); p->n = 0;
  p->fd = tcp_to(port, 0);  /* loopback: the connect and the write return at once */
  if (p->fd < 0) { S.post_errors++; return; }
  send_all(p->fd, req, (size_t)n + bn);
  fcntl(p->fd, F_SETFL, O_NONBLOCK);
  watch(p->fd, EPOLLIN, TAG_POST_BASE + k, EPOLL_CTL_ADD);
}

static void on_post_readable(int k) {
  Post *p = &posts[k];
  for (;;) {
    char tmp[4096];
    ssize_t got = recv(p->fd, tmp, sizeof tmp, 0);
    if (got > 0) {
      int take = (int)got < (int)sizeof p->buf - p->n ? (int)got : (int)sizeof p->buf - p->n;
      memcpy(p->buf + p->n, tmp, (size_t)take); p->n += take;
      continue;
    }
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
    break;  /* the server closed (Connection: close): the whole answer is in */
  }
  epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL); close(p->fd); p->fd = -1;
  rtt[nrtt++] = (now_us() - p->t0) / 1000;
  int status = p->n >= 12 ? atoi(p->buf + 9) : 0;
  if (status >= 200 && status < 300) post_ok[k] = 1;
  else if (++S.post_errors <= 3) emit("{\"event\":\"log\",\"message\":\"POST %d -> %d\"}", k, status);
}

/* ------------------------------------------------------------------ helpers */

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *s, long n, double p) {
  if (!n) return -1;
  long i = (long)(p / 100 * (n - 1) + 0.5);
  return s[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void num(char *out, size_t sz, double x) {
  if (x < 0) snprintf(out, sz, "null"); else snprintf(out, sz, "%.2f", x);
}

static char line[256]; static int nline;

/* The next line on stdin, if one is complete ("" if not yet; "quit" at end of input). */
static const char *stdin_line(void) {
  ssize_t got = read(0, line + nline, sizeof line - 1 - (size_t)nline);
  if (got <= 0) return got == 0 ? "quit" : "";
  nline += (int)got; line[nline] = 0;
  char *nl = strchr(line, '\n');
  if (!nl) return nline >= (int)sizeof line - 1 ? "quit" : "";
  *nl = 0;
  static char cmd[256]; snprintf(cmd, sizeof cmd, "%s", line);
  nline = 0;
  return cmd;
}

static double loop_once(int timeout_ms, const char **cmd) {
  struct epoll_event evs[512];
  int n = epoll_wait(ep, evs, 512, timeout_ms);
  for (int e = 0; e < n; e++) {
    long tag = (long)evs[e].data.u64;
    if (tag == TAG_STDIN) { const char *c = stdin_line(); if (cmd && c[0]) *cmd = c; continue; }
    if (tag >= TAG_POST_BASE) { on_post_readable((int)(tag - TAG_POST_BASE)); continue; }
    Reader *r = &R[tag];
    if (r->state == CONNECTING) { if (evs[e].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected((int)tag); }
    else if (r->fd >= 0) on_readable((int)tag);
  }
  return now_us();
}

int main(int argc, char **argv) {
  for (int a = 1; a + 1 < argc; a += 2) {
    const char *k = argv[a], *v = argv[a + 1];
    if (!strcmp(k, "--port")) port = atoi(v);
    else if (!strcmp(k, "--ws-path")) ws_path = v;
    else if (!strcmp(k, "--post-path")) post_path = v;
    else if (!strcmp(k, "--readers")) nreaders = atoi(v);
    else if (!strcmp(k, "--messages")) nmessages = atoi(v);
    else if (!strcmp(k, "--rate")) rate = atof(v);
    else if (!strcmp(k, "--protocol")) bare = !strcmp(v, "bare");
    else if (!strcmp(k, "--origin")) origin = v;
    else if (!strcmp(k, "--head")) head = atoll(v);
    else if (!strcmp(k, "--body")) body_tpl = v;
    else if (!strcmp(k, "--header")) { if (nheaders < MAX_HEADERS) headers[nheaders++] = v; }
    else if (!strcmp(k, "--connect-concurrency")) connect_conc = atoi(v);
    else if (!strcmp(k, "--connect-max-s")) connect_max_s = atof(v);
    else if (!strcmp(k, "--drain-timeout-s")) drain_s = atof(v);
    else if (!strcmp(k, "--max-time-s")) max_time_s = atof(v);
    else if (!strcmp(k, "--command-timeout-s")) command_s = atof(v);
    else if (!strcmp(k, "--run-id")) run_id = v;
    else die("unknown option");
  }
  if (!port || !ws_path || !post_path || nreaders <= 0 || nreaders > 100000 || nmessages < 0 || nmessages > 100000
      || rate <= 0)
    die("missing or bad options (port, ws-path, post-path, readers, messages, rate > 0)");
  signal(SIGPIPE, SIG_IGN);
  alarm((unsigned)max_time_s);  /* the hard stop: every loop below is bounded, this bounds them all */
  R = calloc((size_t)nreaders, sizeof *R);
  seen = calloc((size_t)nreaders * (size_t)(nmessages ? nmessages : 1), 1);
  count_k = calloc((size_t)nmessages + 1, sizeof(int)); expect_k = calloc((size_t)nmessages + 1, sizeof(int));
  post_ok = calloc((size_t)nmessages + 1, sizeof(int));
  sched_k = calloc((size_t)nmessages + 1, sizeof(double)); complete_k = calloc((size_t)nmessages + 1, sizeof(double));
  lat = malloc(sizeof(double) * ((size_t)nreaders * (size_t)nmessages + 1));
  rtt = calloc((size_t)nmessages + 1, sizeof(double));
  posts = calloc((size_t)nmessages + 1, sizeof(Post));
  if (!R || !seen || !lat || !posts) die("out of memory");
  ep = epoll_create1(0);
  fcntl(0, F_SETFL, O_NONBLOCK);
  watch(0, EPOLLIN, TAG_STDIN, EPOLL_CTL_ADD);
  for (int i = 0; i < nreaders; i++) { R[i].fd = -1; R[i].last = bare ? -1 : head; R[i].last_mark = -1; }

  /* 1. open every reader, at most connect_conc handshakes in flight */
  double t0 = now_us(), deadline = t0 + connect_max_s * 1e6;
  int next = 0;
  for (;;) {
    double t = now_us();
    int inflight = 0, pending = 0;
    for (int i = 0; i < next; i++) {
      if (R[i].state == CONNECTING || (R[i].state == HANDSHAKE) || (R[i].state == OPEN && !R[i].ready)) inflight++;
      if (R[i].state == IDLE) pending++;
    }
    for (int i = 0; i < next && inflight < connect_conc; i++)
      if (R[i].state == IDLE && R[i].retry_at <= t) { start_connect(i); inflight++; pending--; }
    while (next < nreaders && inflight < connect_conc) { start_connect(next++); inflight++; }
    if ((next >= nreaders && inflight == 0 && pending == 0) || t > deadline) break;
    loop_once(50, NULL);
  }
  char codes[2048] = ""; size_t cl = 0;
  for (int c = 0; c < 5000; c++)
    if (close_codes[c]) cl += (size_t)snprintf(codes + cl, sizeof codes - cl, "%s\"%d\":%ld", cl ? "," : "", c, close_codes[c]);
  emit("{\"event\":\"connected\",\"readers\":%d,\"ready\":%d,\"connect_failed\":%d,\"connect_retried\":%ld,"
       "\"connect_s\":%.2f,\"close_codes\":{%s},\"errors\":{%s%s},\"client\":\"readers.c (epoll)\"}",
       nreaders, ready_n, nreaders - ready_n, S.connect_retried, (now_us() - t0) / 1e6, codes,
       nerr ? "\"messages\":[" : "", nerr ? strcat(errors_json, "]") : "");
  memset(close_codes, 0, sizeof close_codes);

  /* 2. wait for "post" */
  const char *cmd = NULL;
  double until = now_us() + command_s * 1e6;
  while (!cmd && now_us() < until) loop_once(200, &cmd);
  if (!cmd || strcmp(cmd, "post")) { emit("{\"event\":\"bye\",\"command\":\"%s\"}", cmd ? cmd : "timeout"); return 0; }

  /* 3. post at `rate`, then wait for every ready reader to have every message (or drain_s) */
  struct rusage ru0, ru1; getrusage(RUSAGE_SELF, &ru0);
  double wall0 = now_us();
  emit("{\"event\":\"post_start\"}");
  for (int k = 0; k < nmessages; k++) expect_k[k] = ready_n;
  t_start_us = now_us() + 50000; t_first = t_start_us;
  int posted = 0;
  double posts_done = 0;
  while (posted < nmessages) {
    double ts = t_start_us + posted * 1e6 / rate, t = now_us();
    if (t >= ts) { sched_k[posted] = ts; post(posted, ts); posted++; continue; }
    loop_once((int)((ts - t) / 1000) + 1, NULL);
  }
  posts_done = now_us();
  long expected = 0;
  double drain_until = now_us() + drain_s * 1e6;
  for (;;) {
    int open_posts = 0;
    for (int k = 0; k < nmessages; k++) if (posts[k].fd > 0) open_posts++;
    expected = 0;
    for (int k = 0; k < nmessages; k++) if (post_ok[k]) expected += expect_k[k];
    if ((!open_posts && S.delivered >= expected) || now_us() > drain_until) break;
    loop_once(20, NULL);
  }
  double wall1 = now_us();
  getrusage(RUSAGE_SELF, &ru1);
  emit("{\"event\":\"post_end\"}");

  /* 4. the result, with loadgen.mjs's keys */
  qsort(lat, (size_t)nlat, sizeof(double), cmp_d);
  for (long i = 0; i < nlat; i++) lat[i] /= 1000;
  double *complete = malloc(sizeof(double) * ((size_t)nmessages + 1)); long nc = 0;
  int posted_ok = 0;
  for (int k = 0; k < nmessages; k++) {
    posted_ok += post_ok[k];
    if (post_ok[k] && expect_k[k] > 0 && count_k[k] >= expect_k[k]) complete[nc++] = (complete_k[k] - sched_k[k]) / 1000;
  }
  qsort(complete, (size_t)nc, sizeof(double), cmp_d);
  qsort(rtt, (size_t)nrtt, sizeof(double), cmp_d);
  double cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6
             + (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) + (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
  double busy = (wall1 - wall0) / 1e6, window = nlat ? (last_recv - t_first) / 1e6 : 0;
  char p50[32], p90[32], p99[32], mx[32], c50[32], c99[32], cmax[32], r50[32], r99[32];
  num(p50, 32, pct(lat, nlat, 50)); num(p90, 32, pct(lat, nlat, 90)); num(p99, 32, pct(lat, nlat, 99));
  num(mx, 32, nlat ? lat[nlat - 1] : -1);
  num(c50, 32, pct(complete, nc, 50)); num(c99, 32, pct(complete, nc, 99)); num(cmax, 32, nc ? complete[nc - 1] : -1);
  num(r50, 32, pct(rtt, nrtt, 50)); num(r99, 32, pct(rtt, nrtt, 99));
  cl = 0; codes[0] = 0;
  for (int c = 0; c < 5000; c++)
    if (close_codes[c]) cl += (size_t)snprintf(codes + cl, sizeof codes - cl, "%s\"%d\":%ld", cl ? "," : "", c, close_codes[c]);
  /* the sample message goes out as a JSON string: escape what JSON needs */
  size_t sl = sample ? strlen(sample) : 0;
  char *esc = malloc(sl * 6 + 3), *o = esc;
  *o++ = '"';
  for (size_t i = 0; i < sl; i++) {
    unsigned char c = (unsigned char)sample[i];
    if (c == '"' || c == '\\') { *o++ = '\\'; *o++ = (char)c; }
    else if (c < 0x20) o += sprintf(o, "\\u%04x", c);
    else *o++ = (char)c;
  }
  *o++ = '"'; *o = 0;
  emit("{\"event\":\"result\",\"readers\":%d,\"ready\":%d,\"messages\":%d,\"posted_ok\":%d,\"rate\":%g,"
       "\"expected\":%ld,\"delivered\":%ld,\"lost\":%ld,\"duplicates\":%ld,\"out_of_order\":%ld,\"seq_gaps\":%ld,"
       "\"seq_backward\":%ld,\"send_order_inversions\":%ld,\"misrouted\":%ld,\"resync\":%ld,\"resumes\":0,"
       "\"resume_failed\":0,\"closed_early\":%ld,\"close_codes\":{%s},\"post_errors\":%ld,\"post_retries\":0,"
       "\"window_stalls\":0,\"other_frames\":%ld,\"lat_p50_ms\":%s,\"lat_p90_ms\":%s,\"lat_p99_ms\":%s,"
       "\"lat_max_ms\":%s,\"last_reader_p50_ms\":%s,\"last_reader_p99_ms\":%s,\"last_reader_max_ms\":%s,"
       "\"complete_messages\":%ld,\"post_rtt_p50_ms\":%s,\"post_rtt_p99_ms\":%s,\"deliveries_per_s\":%.0f,"
       "\"delivery_window_s\":%.2f,\"posting_s\":%.2f,\"measured_s\":%.2f,\"client_cpu_pct\":%.2f,"
       "\"mean_frame_bytes\":%ld,\"sample_message\":%s,\"nodes\":1,\"client\":\"readers.c (epoll)\"}",
       nreaders, ready_n, nmessages, posted_ok, rate, expected, S.delivered, expected - S.delivered, S.dup,
       S.seq_back, S.seq_gap, S.seq_back, S.inversions, S.misrouted, S.resync, S.closed_early, codes, S.post_errors,
       S.other, p50, p90, p99, mx, c50, c99, cmax, nc, r50, r99, window > 0 ? S.delivered / window : 0, window,
       (posts_done - t_first) / 1e6, busy, busy > 0 ? 100 * cpu / busy : 0,
       S.delivered ? S.frame_bytes / S.delivered : 0, sample ? esc : "null");
  /* the driver may read the server's state before the sockets close */
  cmd = NULL; until = now_us() + 10e6;
  while (!cmd && now_us() < until) loop_once(200, &cmd);
  return 0;
}
