// Proof of work for guests, where the site asks for it (server/rejoinder/pow.py): a challenge is
// fetched and solved in a Web Worker as soon as the reader starts typing, so by the time they
// post, the solution is ready; each one pays for one comment.

import type { Api } from "./api";

interface Challenge {
  algorithm: string;
  challenge: string;
  maxnumber: number;
  salt: string;
  signature: string;
}

export class Pow {
  private ready: Promise<string | null> | null = null;

  constructor(private readonly api: Api, private readonly site: string) {}

  /** Start on the next solution now (the reader is typing), unless one is on its way. */
  prepare(): void {
    if (!this.ready) this.ready = this.solveOne();
  }

  /** A solution for the comment being sent; the next one starts at once. Null if none could be made. */
  async take(): Promise<string | null> {
    this.prepare();
    const solution = await this.ready;
    this.ready = null;
    return solution;
  }

  private async solveOne(): Promise<string | null> {
    try {
      const { challenge } = await this.api.challenge(this.site);
      const number = await new Promise<number | null>((resolve) => {
        const worker = new Worker("/pow.js");
        worker.onmessage = (e: MessageEvent<{ number: number | null }>) => {
          worker.terminate();
          resolve(e.data.number);
        };
        worker.onerror = () => {
          worker.terminate();
          resolve(null);
        };
        worker.postMessage({ algorithm: challenge.algorithm, challenge: challenge.challenge,
          maxnumber: challenge.maxnumber, salt: challenge.salt });
      });
      if (number === null) return null;
      return btoa(JSON.stringify({ algorithm: challenge.algorithm, challenge: challenge.challenge, number,
        salt: challenge.salt, signature: challenge.signature }));
    } catch {
      return null;
    }
  }
}

export type { Challenge };
