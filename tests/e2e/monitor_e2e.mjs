// The web monitor in a real browser: launch_cluster starts 3 nodes, headless
// Debian Chromium (driven by playwright-core) opens the monitor, sees the node
// cards and one leader, pauses the leader with its button and sees another
// node take over, writes a key and sees it in every node's log row, and saves
// a screenshot. Every process it starts is stopped by PID.
//
// Usage: node monitor_e2e.mjs BIN_DIR SCREENSHOT_PATH
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [binDir, screenshot] = process.argv.slice(2);
const DEADLINE_MS = 60_000;

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

// Ports below the kernel's ephemeral range (32768-60999): one free when
// checked there could be taken by an outgoing connection (or mpirun's own
// listeners) before the cluster binds it.
async function freeRange(count) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * (12700 - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error('no free ports');
}

const ports = await freeRange(5);
const [discoveryPort, monitorPort, basePort] = [ports, ports + 1, ports + 2];
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'raft-e2e-'));
const launcher = spawn(path.join(binDir, 'launch_cluster'), [
  '--nodes', '3', '--discovery_port', String(discoveryPort), '--monitor_port', String(monitorPort),
  '--base_port', String(basePort), '--min_election_timeout', '500', '--max_election_timeout', '1000',
  '--heartbeat_interval', '100', '--initial_delay_ms', '300', '--data_dir', dataDir, '--fsync', 'never',
], { stdio: ['ignore', 'pipe', 'inherit'] });
let launcherOutput = '';
launcher.stdout.on('data', (d) => { launcherOutput += d; process.stdout.write(d); });
const launcherExit = new Promise((resolve) => launcher.on('exit', (code, signal) => resolve({ code, signal })));

let browser;
let failed = false;
try {
  const started = Date.now();
  while (!launcherOutput.includes('is up')) {
    if (Date.now() - started > DEADLINE_MS) throw new Error('launch_cluster did not come up');
    if (launcher.exitCode !== null) throw new Error('launch_cluster exited early');
    await new Promise((r) => setTimeout(r, 100));
  }

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
           '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`http://127.0.0.1:${monitorPort}/`);

  const wait = (fn, arg) => page.waitForFunction(fn, arg, { timeout: DEADLINE_MS, polling: 100 });
  await wait(() => document.querySelectorAll('#cards .card').length === 3);
  console.log('e2e: 3 node cards');
  await wait(() => document.querySelectorAll('#cards .card.state-leader').length === 1);
  const leaderTitle = await page.locator('#cards .card.state-leader h3').textContent();
  const leaderId = leaderTitle.replace(/\D+/g, '');
  console.log(`e2e: one leader, node ${leaderId}`);

  await page.locator('#cards .card.state-leader button[data-cmd="pause"]').click();
  await wait((old) => [...document.querySelectorAll('#cards .card.state-leader h3')]
    .some((h) => h.textContent.replace(/\D+/g, '') !== old), leaderId);
  const newLeader = await page.evaluate((old) => [...document.querySelectorAll('#cards .card.state-leader h3')]
    .map((h) => h.textContent.replace(/\D+/g, '')).find((id) => id !== old), leaderId);
  console.log(`e2e: paused node ${leaderId}; node ${newLeader} leads now`);

  // Resume the paused node so that every node's log can receive the write.
  const pausedCard = page.locator('#cards .card', { has: page.locator('h3', { hasText: `Node ${leaderId}` }) });
  await pausedCard.locator('button[data-cmd="resume"]').click();
  await page.fill('#kv-key', 'e2e-key');
  await page.fill('#kv-value', '<b>from the browser</b>');
  await page.click('#kv-put');
  await wait(() => {
    const rows = [...document.querySelectorAll('#logs .log-row')];
    return rows.length === 3 &&
      rows.every((r) => [...r.querySelectorAll('.log-cell')].some((c) => (c.title || '').includes('e2e-key')));
  });
  console.log('e2e: the key is in every node\'s log');
  if (await page.locator('#logs b, #cards b').count() !== 0) throw new Error('user text was rendered as HTML');
  // The clicks scrolled the page; from the top, the sticky header stays on top.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`e2e: screenshot ${screenshot}`);
  if (pageErrors.length) throw new Error('page errors: ' + pageErrors.join('; '));
} catch (e) {
  failed = true;
  console.error('e2e FAILED:', e.message);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (launcher.exitCode === null) launcher.kill('SIGINT');
  const { code, signal } = await launcherExit;
  if (code !== 0) {
    failed = true;
    console.error(`e2e FAILED: launch_cluster exited with ${code ?? signal} after SIGINT`);
  }
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
