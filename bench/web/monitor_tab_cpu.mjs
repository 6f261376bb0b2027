// What an idle monitor tab costs: launch_cluster starts N nodes, headless
// Debian Chromium (playwright-core) opens the monitor and sits on it; over
// MEASURE_S seconds the CPU time of every Chromium process (the browser and
// all its children, from /proc) is summed, and a second client reads the
// same event stream the page reads (/api/events?history=1) to count its
// messages and bytes. Prints one JSON line per run.
//
// The cluster runs at launch_cluster's default timeouts (2000-4000 ms,
// heartbeat 750 ms) unless FAST=1 (300-600 ms, heartbeat 100 ms: seven
// times the heartbeats, the setting).
//
// Usage: [FAST=1] node monitor_tab_cpu.mjs BIN_DIR NODES [MEASURE_S] [REDUCED_MOTION=0|1]
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { launchChromium, startCluster } from './e2e_cluster.mjs';

const [binDir, nodesArg, measureArg, reducedArg] = process.argv.slice(2);
const nodes = Number(nodesArg || 3);
const measureS = Number(measureArg || 30);
const reduced = reducedArg === '1';
const CLK_TCK = 100;  // Linux USER_HZ

/// CPU ticks (user + system) of `root` and every process below it.
function treeTicks(root) {
  const parent = new Map();
  const ticks = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(fields[1]));
      ticks.set(Number(name), Number(fields[11]) + Number(fields[12]));
    } catch (_) { /* gone meanwhile */ }
  }
  let total = 0;
  for (const [pid, t] of ticks) {
    for (let p = pid; p > 1; p = parent.get(p) || 0) {
      if (p === root) { total += t; break; }
    }
  }
  return total;
}

/// The Chromium that playwright started: a child of this process.
function chromiumPid() {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const comm = readFileSync(`/proc/${name}/comm`, 'utf8');
      if (ppid === process.pid && comm.startsWith('chrom')) return Number(name);
    } catch (_) { /* gone meanwhile */ }
  }
  throw new Error('cannot find the Chromium process');
}

const fast = process.env.FAST === '1';
const timing = fast
  ? ['--min_election_timeout', '300', '--max_election_timeout', '600', '--heartbeat_interval', '100']
  : [];
const cluster = await startCluster(binDir, {
  token: 'bench-token-0123456789abcdef', portCount: nodes + 2, prefix: 'raft-tab-cpu-', quiet: true,
  flags: ['--nodes', String(nodes), ...timing, '--initial_delay_ms', '300', '--fsync', 'never'],
});
let browser;
try {
  await cluster.up(120_000);
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 },
                                       reducedMotion: reduced ? 'reduce' : 'no-preference' });
  await page.goto(cluster.monitorUrl);
  await page.waitForFunction((n) => document.querySelectorAll('#ring g.node').length === n, nodes, { timeout: 60000 });
  await new Promise((r) => setTimeout(r, 5000));  // settle: history loaded, stream open

  let bytes = 0, messages = 0, history = 0;
  const stream = http.get(`${cluster.monitorUrl}api/events?history=1`, (res) => {
    res.on('data', (chunk) => {
      bytes += chunk.length;
      const text = chunk.toString();
      messages += (text.match(/\ndata: /g) || []).length + (text.startsWith('data: ') ? 1 : 0);
      history += (text.match(/event: history/g) || []).length;
    });
  });
  const pid = chromiumPid();
  const before = treeTicks(pid);
  const start = Date.now();
  await new Promise((r) => setTimeout(r, measureS * 1000));
  const seconds = (Date.now() - start) / 1000;
  const cpu = (treeTicks(pid) - before) / CLK_TCK / seconds;
  stream.destroy();
  console.log(JSON.stringify({
    nodes, timeouts: fast ? '300-600/100' : '2000-4000/750', reduced_motion: reduced, seconds: Number(seconds.toFixed(1)),
    tab_cpu_percent_of_one_core: Number((cpu * 100).toFixed(1)),
    sse_messages_per_s: Number((messages / seconds).toFixed(2)),
    sse_history_messages_per_s: Number((history / seconds).toFixed(2)),
    sse_kib_per_minute: Number((bytes / 1024 / seconds * 60).toFixed(1)),
  }));
} finally {
  if (browser) await browser.close().catch(() => {});
  const stopError = await cluster.stop();
  if (stopError) console.error('monitor_tab_cpu: ' + stopError);
}
