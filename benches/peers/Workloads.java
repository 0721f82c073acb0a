// The comparison workloads for HotSpot, with the same definitions, PRNG and checksums as
// benches/src/*.rs: `java -XX:+UseParallelGC -cp DIR Workloads WORKLOAD SIZE` prints one
// `RESULT key=value ...` line, as `workloads run` does.

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;

public final class Workloads {
    // ---- SplitMix64, as common::Rng ----
    static final class Rng {
        long state;
        Rng(long seed) { state = seed; }
        long next() {
            state += 0x9e3779b97f4a7c15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return z ^ (z >>> 31);
        }
        /** A number in 0..n: the high 64 bits of next() * n, unsigned. */
        long below(long n) {
            long x = next();
            return Math.multiplyHigh(x, n) + ((x >> 63) & n);
        }
        int range(int lo, int hi) { return lo + (int) below(hi - lo + 1); }
    }

    static long[] memory() throws Exception {
        long rss = 0, hwm = 0;
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) rss = kb(line);
            if (line.startsWith("VmHWM:")) hwm = kb(line);
        }
        return new long[] {rss, hwm};
    }

    static long kb(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
    }

    // ---- binary-trees ----
    static final class Node {
        Node left, right;
        Node(Node l, Node r) { left = l; right = r; }
    }

    static Node bottomUp(int d) {
        return d == 0 ? new Node(null, null) : new Node(bottomUp(d - 1), bottomUp(d - 1));
    }

    static long check(Node n) {
        return 1 + (n.left == null ? 0 : check(n.left) + check(n.right));
    }

    static long binaryTrees(int max) {
        max = Math.max(max, 6);
        long sum = check(bottomUp(max + 1));
        Node longLived = bottomUp(max);
        for (int d = 4; d <= max; d += 2) {
            long iters = 1L << (max - d + 4);
            for (long i = 0; i < iters; i++) sum += check(bottomUp(d));
        }
        return sum + check(longLived);
    }

    // ---- GCBench ----
    static final class GNode {
        GNode left, right;
        int i, j;
        GNode() {}
        GNode(GNode l, GNode r) { left = l; right = r; }
    }

    static long treeSize(int d) { return (1L << (d + 1)) - 1; }

    static long populate(int depth, GNode node) {
        if (depth <= 0) return 0;
        node.left = new GNode();
        node.right = new GNode();
        return 2 + populate(depth - 1, node.left) + populate(depth - 1, node.right);
    }

    static GNode makeTree(int depth, long[] count) {
        count[0]++;
        if (depth <= 0) return new GNode();
        return new GNode(makeTree(depth - 1, count), makeTree(depth - 1, count));
    }

    static long walk(GNode n) {
        return 1 + (n.left == null ? 0 : walk(n.left) + walk(n.right));
    }

    static volatile GNode sink;

    static long gcbench(int stretch) {
        stretch = Math.max(stretch, 6);
        int longLivedDepth = stretch - 2, max = stretch - 2;
        long[] count = {0};
        makeTree(stretch, count);
        long sum = count[0];
        GNode longLived = new GNode();
        sum += 1 + populate(longLivedDepth, longLived);
        double[] array = new double[500_000];
        for (int i = 0; i < 500_000 / 2; i++) array[i] = 1.0 / i;
        for (int d = 4; d <= max; d += 2) {
            long iters = 2 * treeSize(stretch) / treeSize(d);
            for (long i = 0; i < iters; i++) {
                GNode t = new GNode();
                sum += 1 + populate(d, t);
                sink = t;
            }
            for (long i = 0; i < iters; i++) {
                count[0] = 0;
                sink = makeTree(d, count);
                sum += count[0];
            }
        }
        if (array[1000] != 1.0 / 1000) throw new AssertionError("array");
        return sum + walk(longLived) + Math.round(array[1000] * 1000);
    }

    static long objectSum(byte[] b) {
        return (long) b.length * ((b[0] & 0xff) + 1) + (b[b.length - 1] & 0xff);
    }

    // ---- churn ----
    static long[] churn(int n) throws Exception {
        Rng rng = new Rng(0x00c0ffeeL);
        byte[][] table = new byte[n][];
        long total = n + 20L * (n / 2);
        for (long i = 0; i < total; i++) {
            int slot = i < n ? (int) i : (int) rng.below(n);
            int len = rng.range(16, 1024);
            byte b = (byte) rng.next();
            byte[] o = new byte[len];
            Arrays.fill(o, b);
            table[slot] = o;
        }
        System.gc();
        long rss = memory()[0];
        long sum = 0, live = 0;
        for (byte[] o : table) {
            sum += objectSum(o);
            live += o.length;
        }
        return new long[] {sum, live, rss};
    }

    // ---- frag ----
    static long[] frag(int n) throws Exception {
        Rng small = new Rng(1), keep = new Rng(2), large = new Rng(3);
        ArrayList<byte[]> table = new ArrayList<>(n);
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            int len = small.range(16, 64);
            byte b = (byte) small.next();
            byte[] o = new byte[len];
            Arrays.fill(o, b);
            table.add(o);
            bytes += len;
        }
        ArrayList<byte[]> kept = new ArrayList<>();
        for (byte[] o : table) if (keep.below(10) == 0) kept.add(o);
        kept.trimToSize();
        table = null;
        System.gc();
        for (long done = 0; done < bytes; ) {
            int len = large.range(2048, 8192);
            done += len;
            byte b = (byte) large.next();
            byte[] o = new byte[len];
            Arrays.fill(o, b);
            kept.add(o);
        }
        System.gc();
        long rss = memory()[0];
        long sum = 0, live = 0;
        for (byte[] o : kept) {
            sum += objectSum(o);
            live += o.length;
        }
        return new long[] {sum, live, rss};
    }

    // ---- cycles ----
    static final class CNode {
        long value;
        CNode next, prev;
    }

    static long cycles(long n) {
        long rings = n / 1024, sum = 0;
        for (long r = 0; r < rings; r++) {
            long base = r * 1024;
            CNode first = new CNode();
            first.value = base;
            CNode last = first;
            for (long v = base + 1; v < base + 1024; v++) {
                CNode node = new CNode();
                node.value = v;
                node.prev = last;
                last.next = node;
                last = node;
            }
            last.next = first;
            first.prev = last;
            CNode at = first;
            for (int i = 0; i < 1024; i++) {
                sum += at.value;
                at = at.next;
            }
            for (int i = 0; i < 1024; i++) {
                at = at.prev;
                sum += at.value;
            }
        }
        return sum;
    }

    public static void main(String[] args) throws Exception {
        String w = args[0];
        long size = Long.parseLong(args[1]);
        long start = System.nanoTime();
        StringBuilder extra = new StringBuilder();
        long checksum;
        switch (w) {
            case "binary-trees": checksum = binaryTrees((int) size); break;
            case "gcbench": checksum = gcbench((int) size); break;
            case "churn":
            case "frag": {
                long[] r = w.equals("churn") ? churn((int) size) : frag((int) size);
                checksum = r[0];
                extra.append(" live_bytes=").append(r[1]).append(" final_rss=").append(r[2]);
                break;
            }
            case "cycles": checksum = cycles(size); break;
            default: throw new IllegalArgumentException("unknown workload " + w);
        }
        double wall = (System.nanoTime() - start) / 1e9;
        System.out.printf("RESULT workload=%s impl=hotspot size=%d wall_s=%.4f peak_rss=%d checksum=%d%s%n",
                w, size, wall, memory()[1], checksum, extra);
    }
}
