// Free loopback ports for the browser tests and the tab benchmark.
import net from 'node:net';

export function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/// `count` consecutive free ports below the kernel's ephemeral range
/// (32768-60999): one free when checked there could be taken by an outgoing
/// connection (or mpirun's own listeners) before the cluster binds it.
export async function freeRange(count) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * (12700 - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error('no free ports');
}
