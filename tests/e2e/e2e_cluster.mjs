// What every browser script of the monitor (the e2e tests, the tab
// benchmark, the docs' screenshots) does around its own steps: start
// launch_cluster on free ports with a token it knows, wait until it is up,
// open headless Debian Chromium, and stop both by PID at the end, telling
// whether launch_cluster exited 0 on SIGINT.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { freeRange } from './free_ports.mjs';

export const DEADLINE_MS = 60_000;

export const step = (text) => console.log('e2e: ' + text);

/// Waits until `fn(arg)` holds in the page, polling every 50 ms.
export const waitFor = (page, fn, arg, timeout = DEADLINE_MS) =>
  page.waitForFunction(fn, arg, { timeout, polling: 50 });

/// Starts `launch_cluster` from `binDir` with `flags` (ports and data folder
/// are added) on `portCount` free ports. Its output is echoed unless `quiet`
/// (a benchmark that prints only its results). Returns the ports, the monitor
/// URL with the token in its fragment, nodeUrl(rank), and up() / stop().
export async function startCluster(binDir, { token, flags, portCount, prefix, quiet = false }) {
  const ports = await freeRange(portCount);
  const [discoveryPort, monitorPort, basePort] = [ports, ports + 1, ports + 2];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const launcher = spawn(path.join(binDir, 'launch_cluster'), [
    ...flags, '--discovery_port', String(discoveryPort), '--monitor_port', String(monitorPort),
    '--base_port', String(basePort), '--data_dir', dataDir,
  ], { stdio: ['ignore', 'pipe', quiet ? 'ignore' : 'inherit'],
       env: { ...process.env, RAFT_AUTH_TOKEN: token } });
  let output = '';
  launcher.stdout.on('data', (d) => {
    output += d;
    if (!quiet) process.stdout.write(d);
  });
  const exited = new Promise((resolve) => launcher.on('exit', (code, signal) => resolve({ code, signal })));
  const monitorUrl = `http://127.0.0.1:${monitorPort}/`;
  return {
    basePort,
    monitorUrl,
    monitorPage: `${monitorUrl}#token=${token}`,
    nodeUrl: (rank) => `http://127.0.0.1:${basePort + rank}/`,
    /// Until launch_cluster says the cluster is up; throws if it exits first
    /// or takes longer than `timeoutMs` (many nodes on few cores want more).
    async up(timeoutMs = DEADLINE_MS) {
      const started = Date.now();
      while (!output.includes('is up')) {
        if (Date.now() - started > timeoutMs) throw new Error('launch_cluster did not come up');
        if (launcher.exitCode !== null) throw new Error('launch_cluster exited early');
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /// SIGINT, then its exit; the data folder is removed. Returns an error
    /// text when launch_cluster did not exit 0, else null.
    async stop() {
      if (launcher.exitCode === null) launcher.kill('SIGINT');
      const { code, signal } = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      return code === 0 ? null : `launch_cluster exited with ${code ?? signal} after SIGINT`;
    },
  };
}

/// How every browser test ends: reports `error` (if the walk threw one) with
/// a screenshot of `page` at `shot`, closes Chromium, stops the cluster and
/// exits, 1 if the walk failed or launch_cluster did not exit 0 on SIGINT.
export async function finish(cluster, { error, browser, page, shot }) {
  let failed = false;
  if (error) {
    failed = true;
    console.error('e2e FAILED:', error.message);
    if (page) await page.screenshot({ path: shot }).catch(() => {});
  }
  if (browser) await browser.close().catch(() => {});
  const stopError = await cluster.stop();
  if (stopError) {
    failed = true;
    console.error('e2e FAILED: ' + stopError);
  }
  process.exit(failed ? 1 : 0);
}

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
           '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}
