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
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { freeRange } from './free_ports.mjs';

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

const ports = await freeRange(nodes + 2);
const [discoveryPort, monitorPort, basePort] = [ports, ports + 1, ports + 2];
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'raft-tab-cpu-'));
const fast = process.env.FAST === '1';
const timing = fast
  ? ['--min_election_timeout', '300', '--max_election_timeout', '600', '--heartbeat_interval', '100']
  : [];
const launcher = spawn(path.join(binDir, 'launch_cluster'), [
  '--nodes', String(nodes), '--discovery_port', String(discoveryPort), '--monitor_port', String(monitorPort),
  '--base_port', String(basePort), ...timing, '--initial_delay_ms', '300', '--data_dir', dataDir,
  '--fsync', 'never',
], { stdio: ['ignore', 'pipe', 'ignore'] });
let out = '';
launcher.stdout.on('data', (d) => { out += d; });
const exited = new Promise((resolve) => launcher.on('exit', resolve));
let browser;
try {
  const t0 = Date.now();
  while (!out.includes('is up')) {
    if (Date.now() - t0 > 120000 || launcher.exitCode !== null) throw new Error('cluster did not come up');
    await new Promise((r) => setTimeout(r, 200));
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
           '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 },
                                       reducedMotion: reduced ? 'reduce' : 'no-preference' });
  await page.goto(`http://127.0.0.1:${monitorPort}/`);
  await page.waitForFunction((n) => document.querySelectorAll('#ring g.node').length === n, nodes, { timeout: 60000 });
  await new Promise((r) => setTimeout(r, 5000));  // settle: history loaded, stream open

  let bytes = 0, messages = 0, history = 0;
  const stream = http.get(`http://127.0.0.1:${monitorPort}/api/events?history=1`, (res) => {
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
  if (launcher.exitCode === null) launcher.kill('SIGINT');
  await exited;
  rmSync(dataDir, { recursive: true, force: true });
}
