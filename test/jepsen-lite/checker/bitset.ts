// The set of operations already linearized, as a bitset with an incremental Zobrist hash: the
// memo key of the search changes by one bit per step, so its hash is updated in O(1) instead
// of rehashing n/32 words (Porcupine rehashes; our histories are long enough to feel it).
import { SeededRandom } from '../../../src/raft/random.ts';

export class LinearizedSet {
  readonly words: Uint32Array;
  /** Two independent 32-bit Zobrist hashes, i.e. a 64-bit hash of the set. */
  hashLow = 0;
  hashHigh = 0;
  private readonly zobristLow: Uint32Array;
  private readonly zobristHigh: Uint32Array;

  constructor(readonly size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
    this.zobristLow = new Uint32Array(size);
    this.zobristHigh = new Uint32Array(size);
    // Fixed seed: hashes only need to be well spread, and equal runs should search equally.
    const random = new SeededRandom(0x5eed);
    for (let bit = 0; bit < size; bit++) {
      this.zobristLow[bit] = Math.floor(random.next() * 2 ** 32);
      this.zobristHigh[bit] = Math.floor(random.next() * 2 ** 32);
    }
  }

  has(bit: number): boolean {
    return (this.words[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  /** Adds or removes `bit` (it must change), keeping the hash in step. */
  flip(bit: number): void {
    if (bit < 0 || bit >= this.size) throw new RangeError(`bit ${bit} outside [0, ${this.size})`);
    this.words[bit >>> 5]! ^= 1 << (bit & 31);
    this.hashLow = (this.hashLow ^ this.zobristLow[bit]!) >>> 0;
    this.hashHigh = (this.hashHigh ^ this.zobristHigh[bit]!) >>> 0;
  }

  hashKey(): string {
    return `${this.hashLow.toString(36)}.${this.hashHigh.toString(36)}`;
  }

  snapshot(): Uint32Array {
    return this.words.slice();
  }

  equals(words: Uint32Array): boolean {
    if (words.length !== this.words.length) return false;
    for (let index = 0; index < words.length; index++) if (words[index] !== this.words[index]) return false;
    return true;
  }
}
