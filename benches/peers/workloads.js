// The comparison workloads for V8, with the same definitions, PRNG and checksums as
// benches/src/*.rs: `node --expose-gc --stack-size=8000 workloads.js WORKLOAD SIZE` prints one
// `RESULT key=value ...` line, as `workloads run` does. The checksums are exact below 2^53,
// which they are at the runner's sizes (checked against the expected values there).
'use strict';
const fs = require('fs');

// ---- SplitMix64 on two 32-bit halves (BigInt would dominate the run) ----
const TWO32 = 4294967296;

// The low 64 bits of a * b, each given as [hi, lo] unsigned 32-bit halves.
function mul64(ah, al, bh, bl) {
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const mid = a0 * b1 + a1 * b0;
  let lo = a0 * b0 + (mid % 65536) * 65536;
  let hi = a1 * b1 + Math.floor(mid / 65536) + Math.floor(lo / TWO32);
  lo = lo % TWO32;
  hi = (hi + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  return [hi, lo >>> 0];
}

class Rng {
  constructor(seed) { this.h = Math.floor(seed / TWO32) >>> 0; this.l = seed >>> 0; }
  // Sets this.zh, this.zl to the next 64 bits.
  next() {
    let l = this.l + 0x7f4a7c15;
    let h = (this.h + 0x9e3779b9 + (l >= TWO32 ? 1 : 0)) >>> 0;
    l = l >>> 0;
    this.h = h; this.l = l;
    let zh = h, zl = l;
    // z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
    let sl = ((zl >>> 30) | (zh << 2)) >>> 0, sh = zh >>> 30;
    [zh, zl] = mul64((zh ^ sh) >>> 0, (zl ^ sl) >>> 0, 0xbf58476d, 0x1ce4e5b9);
    // z = (z ^ (z >> 27)) * 0x94d049bb133111eb
    sl = ((zl >>> 27) | (zh << 5)) >>> 0; sh = zh >>> 27;
    [zh, zl] = mul64((zh ^ sh) >>> 0, (zl ^ sl) >>> 0, 0x94d049bb, 0x133111eb);
    // z ^ (z >> 31)
    sl = ((zl >>> 31) | (zh << 1)) >>> 0; sh = zh >>> 31;
    this.zh = (zh ^ sh) >>> 0; this.zl = (zl ^ sl) >>> 0;
  }
  byte() { this.next(); return this.zl & 0xff; }
  // The high 64 bits of next() * n, for n < 2^23.
  below(n) {
    this.next();
    const xh = this.zh, xl = this.zl;
    const c = Math.floor(((xl >>> 16) * n + Math.floor((xl & 0xffff) * n / 65536)) / 65536);
    const t = Math.floor(((xh & 0xffff) * n + c) / 65536);
    return Math.floor(((xh >>> 16) * n + t) / 65536);
  }
  range(lo, hi) { return lo + this.below(hi - lo + 1); }
}

function memory() {
  const s = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number(s.match(new RegExp(k + ':\\s+(\\d+)'))[1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

// ---- binary-trees ----
function bottomUp(d) {
  return d === 0 ? { left: null, right: null } : { left: bottomUp(d - 1), right: bottomUp(d - 1) };
}
function check(n) { return 1 + (n.left === null ? 0 : check(n.left) + check(n.right)); }
function binaryTrees(max) {
  max = Math.max(max, 6);
  let sum = check(bottomUp(max + 1));
  const longLived = bottomUp(max);
  for (let d = 4; d <= max; d += 2) {
    const iters = 2 ** (max - d + 4);
    for (let i = 0; i < iters; i++) sum += check(bottomUp(d));
  }
  return sum + check(longLived);
}

// ---- GCBench ----
class GNode { constructor(l, r) { this.left = l; this.right = r; this.i = 0; this.j = 0; } }
const treeSize = (d) => 2 ** (d + 1) - 1;
function populate(depth, node) {
  if (depth <= 0) return 0;
  node.left = new GNode(null, null);
  node.right = new GNode(null, null);
  return 2 + populate(depth - 1, node.left) + populate(depth - 1, node.right);
}
let made = 0;
function makeTree(depth) {
  made++;
  return depth <= 0 ? new GNode(null, null) : new GNode(makeTree(depth - 1), makeTree(depth - 1));
}
function walk(n) { return 1 + (n.left === null ? 0 : walk(n.left) + walk(n.right)); }
let sink = null;
function gcbench(stretch) {
  stretch = Math.max(stretch, 6);
  const max = stretch - 2;
  made = 0; makeTree(stretch);
  let sum = made;
  const longLived = new GNode(null, null);
  sum += 1 + populate(stretch - 2, longLived);
  const array = new Float64Array(500000);
  for (let i = 0; i < 250000; i++) array[i] = 1 / i;
  for (let d = 4; d <= max; d += 2) {
    const iters = Math.floor(2 * treeSize(stretch) / treeSize(d));
    for (let i = 0; i < iters; i++) { const t = new GNode(null, null); sum += 1 + populate(d, t); sink = t; }
    for (let i = 0; i < iters; i++) { made = 0; sink = makeTree(d); sum += made; }
  }
  if (array[1000] !== 1 / 1000) throw new Error('array');
  return sum + walk(longLived) + Math.round(array[1000] * 1000);
}

const objectSum = (b) => b.length * (b[0] + 1) + b[b.length - 1];

// ---- churn ----
function churn(n) {
  const rng = new Rng(0x00c0ffee);
  const table = new Array(n).fill(null);
  const total = n + 20 * Math.floor(n / 2);
  for (let i = 0; i < total; i++) {
    const slot = i < n ? i : rng.below(n);
    const len = rng.range(16, 1024);
    table[slot] = new Uint8Array(len).fill(rng.byte());
  }
  global.gc();
  const rss = memory().rss;
  let sum = 0, live = 0;
  for (const o of table) { sum += objectSum(o); live += o.length; }
  return [sum, live, rss];
}

// ---- frag ----
function frag(n) {
  const small = new Rng(1), keep = new Rng(2), large = new Rng(3);
  let table = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const len = small.range(16, 64);
    table.push(new Uint8Array(len).fill(small.byte()));
    bytes += len;
  }
  const kept = table.filter(() => keep.below(10) === 0);
  table = null;
  global.gc();
  for (let done = 0; done < bytes;) {
    const len = large.range(2048, 8192);
    done += len;
    kept.push(new Uint8Array(len).fill(large.byte()));
  }
  global.gc();
  const rss = memory().rss;
  let sum = 0, live = 0;
  for (const o of kept) { sum += objectSum(o); live += o.length; }
  return [sum, live, rss];
}

// ---- cycles ----
class CNode { constructor(v, prev) { this.value = v; this.next = null; this.prev = prev; } }
function cycles(n) {
  const rings = Math.floor(n / 1024);
  let sum = 0;
  for (let r = 0; r < rings; r++) {
    const base = r * 1024;
    const first = new CNode(base, null);
    let last = first;
    for (let v = base + 1; v < base + 1024; v++) { const node = new CNode(v, last); last.next = node; last = node; }
    last.next = first; first.prev = last;
    let at = first;
    for (let i = 0; i < 1024; i++) { sum += at.value; at = at.next; }
    for (let i = 0; i < 1024; i++) { at = at.prev; sum += at.value; }
  }
  return sum;
}

const [w, sizeArg] = process.argv.slice(2);
const size = Number(sizeArg);
const start = process.hrtime.bigint();
let checksum, extra = '';
switch (w) {
  case 'binary-trees': checksum = binaryTrees(size); break;
  case 'gcbench': checksum = gcbench(size); break;
  case 'churn': case 'frag': {
    const [sum, live, rss] = w === 'churn' ? churn(size) : frag(size);
    checksum = sum; extra = ` live_bytes=${live} final_rss=${rss}`;
    break;
  }
  case 'cycles': checksum = cycles(size); break;
  default: throw new Error('unknown workload ' + w);
}
const wall = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`RESULT workload=${w} impl=v8 size=${size} wall_s=${wall.toFixed(4)} peak_rss=${memory().hwm} checksum=${checksum}${extra}`);
