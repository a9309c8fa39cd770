// The proof of work's Web Worker (built as /pow.js): find n in [0, maxnumber] with
// SHA-256(salt + n) == challenge, off the page's main thread so the reader never feels it.
// The challenge comes from our own server (server/rejoinder/pow.py, the ALTCHA scheme).

interface Task {
  algorithm: string;
  challenge: string;
  maxnumber: number;
  salt: string;
}

const hex = (buf: ArrayBuffer): string =>
  Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

// Numbers hashed per batch: the digests of a batch run concurrently, which is several times
// faster than awaiting one at a time.
const BATCH = 256;

async function solve(t: Task): Promise<number | null> {
  const encoder = new TextEncoder();
  for (let start = 0; start <= t.maxnumber; start += BATCH) {
    const end = Math.min(start + BATCH - 1, t.maxnumber);
    const digests: Promise<ArrayBuffer>[] = [];
    for (let n = start; n <= end; n++) digests.push(crypto.subtle.digest("SHA-256", encoder.encode(t.salt + n)));
    const found = (await Promise.all(digests)).findIndex((d) => hex(d) === t.challenge);
    if (found >= 0) return start + found;
  }
  return null;
}

addEventListener("message", (event: MessageEvent<Task>) => {
  const started = performance.now();
  void solve(event.data).then((number) => postMessage({ number, took: performance.now() - started }));
});
