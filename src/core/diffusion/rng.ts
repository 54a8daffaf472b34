/**
 * Seeded pseudo-random numbers for reproducible sampling. Never Math.random: an image must be reproducible
 * from its seed.
 *
 * Algorithm: xoshiro128** 1.1 (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
 * ACM TOMS 2021, arXiv:1805.01407; reference C code https://prng.di.unimi.it/xoshiro128starstar.c).
 * 128-bit state, period 2^128 - 1, all arithmetic in 32-bit integers (Math.imul, >>> 0), so it is fast in
 * JavaScript without BigInt.
 *
 * Seeding: the seed must be an integer in [0, 2^53) (any JS safe integer, so 32-bit seeds and 53-bit seeds
 * both work). It becomes the 64-bit state of splitmix64 (Steele, Lea & Flood, "Fast splittable pseudorandom
 * number generators", OOPSLA 2014; reference https://prng.di.unimi.it/splitmix64.c), as the xoshiro authors
 * recommend. Two splitmix64 outputs z0, z1 fill the state as
 *   s[0] = low32(z0), s[1] = high32(z0), s[2] = low32(z1), s[3] = high32(z1).
 * splitmix64 is a bijection of its counter, so the state is never all zero.
 *
 * nextFloat: 53 random bits -> [0, 1): ((a >>> 5) * 2^26 + (b >>> 6)) / 2^53, a and b consecutive uint32.
 * gaussian: Box-Muller (Box & Muller 1958) in float64 with u1 = 1 - nextFloat() in (0, 1] (log(0) impossible),
 *   z0 = sqrt(-2 ln u1) cos(2 pi u2), z1 = sqrt(-2 ln u1) sin(2 pi u2); z1 is kept for the next call.
 * fillGaussian: successive gaussian() values rounded to float32.
 */

const MASK64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

function checkSeed(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${name} ${String(v)} is invalid; accepted: integers in [0, 2^53 - 1]`);
  }
}

/** splitmix64 output function (the "mix" of the counter value x). */
function splitmix64Mix(x: bigint): bigint {
  let z = x & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** Anything that can fill a buffer with standard normal values; Rng is the production one. */
export interface NoiseSource {
  fillGaussian(out: Float32Array): void;
}

export class Rng implements NoiseSource {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(seed: number) {
    checkSeed('seed', seed);
    let x = BigInt(seed);
    x = (x + GOLDEN_GAMMA) & MASK64;
    const z0 = splitmix64Mix(x);
    x = (x + GOLDEN_GAMMA) & MASK64;
    const z1 = splitmix64Mix(x);
    this.s0 = Number(z0 & 0xffffffffn);
    this.s1 = Number(z0 >> 32n);
    this.s2 = Number(z1 & 0xffffffffn);
    this.s3 = Number(z1 >> 32n);
  }

  /** Next 32-bit output of xoshiro128**, as an integer in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const r = Math.imul(s1, 5);
    const result = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    // Keep the words as uint32 so the state is easy to compare with the reference implementation.
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform float64 in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal float64 (Box-Muller). */
  gaussian(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = 1 - this.nextFloat();
    const u2 = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fills out with standard normal values rounded to float32. */
  fillGaussian(out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.gaussian();
  }
}

/**
 * Per-image seed for image `index` of a batch started with seed `base`: splitmix64's mix of
 * base + (index + 1) * golden gamma (mod 2^64), truncated to 53 bits so it is again a valid seed. Distinct
 * indices give well-separated streams; the result depends on both arguments and nothing else.
 */
export function deriveSeed(base: number, index: number): number {
  checkSeed('base seed', base);
  checkSeed('index', index);
  const x = (BigInt(base) + (BigInt(index) + 1n) * GOLDEN_GAMMA) & MASK64;
  return Number(splitmix64Mix(x) >> 11n);
}
