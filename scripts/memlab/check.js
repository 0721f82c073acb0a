// Reads every NAME.heapsnapshot in a directory with memlab's analysis API (offline) and
// compares, node by node, the retained sizes and the shortest retainer paths memlab computes
// with the ones gc-core computed (NAME.expected.json, written by `leak-demo --snapshot DIR`).
// Exits non-zero on any mismatch.
'use strict';

const fs = require('fs');
const path = require('path');
const {getFullHeapFromFile} = require('@memlab/heap-analysis');

function memlabPath(node) {
  // From the node up its path edges to the root memlab's search started from.
  const ids = [node.id];
  const seen = new Set(ids);
  let at = node;
  while (at.pathEdge) {
    at = at.pathEdge.fromNode;
    if (seen.has(at.id)) {
      return null;
    }
    seen.add(at.id);
    ids.unshift(at.id);
  }
  return ids;
}

async function check(dir, name) {
  const heap = await getFullHeapFromFile(path.join(dir, `${name}.heapsnapshot`));
  const expected = JSON.parse(fs.readFileSync(path.join(dir, `${name}.expected.json`), 'utf8'));
  const problems = [];
  for (const [id, size] of expected.retained) {
    const node = heap.getNodeById(id);
    if (!node) {
      problems.push(`node @${id} missing`);
    } else if (node.retainedSize !== size) {
      problems.push(`node @${id} (${node.name}): retained ${node.retainedSize} by memlab, ${size} by gc-core`);
    }
  }
  let paths = 0;
  for (const [id, ours] of Object.entries(expected.paths)) {
    const node = heap.getNodeById(Number(id));
    const theirs = node && memlabPath(node);
    paths++;
    if (!theirs || theirs.join(',') !== ours.join(',')) {
      problems.push(`node @${id}: path ${JSON.stringify(theirs)} by memlab, ${JSON.stringify(ours)} by gc-core`);
    }
  }
  return {name, nodes: heap.nodes.length, retained: expected.retained.length, paths, problems};
}

(async () => {
  const dir = process.argv[2];
  const names = fs.readdirSync(dir)
    .filter(f => f.endsWith('.heapsnapshot'))
    .map(f => f.slice(0, -'.heapsnapshot'.length))
    .sort();
  let failed = 0;
  const results = [];
  for (const name of names) {
    results.push(await check(dir, name));
  }
  // memlab writes progress lines with terminal escapes; print the verdicts after them.
  process.stdout.write('\n');
  for (const r of results) {
    const verdict = r.problems.length === 0 ? 'ok' : `${r.problems.length} MISMATCHES`;
    console.log(`${r.name}: ${r.nodes} nodes, ${r.retained} retained sizes and ${r.paths} paths compared: ${verdict}`);
    for (const p of r.problems.slice(0, 20)) {
      console.log(`  ${p}`);
    }
    failed += r.problems.length > 0 ? 1 : 0;
  }
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed === 0 && results.length > 0 ? 0 : 1);
})().catch(e => {
  console.error(e);
  process.exit(2);
});
