// Takes the screenshots in docs/img/ from a real cluster (not a test):
//   monitor-election.png  1440x900, light: an election in slow motion, the
//                         CANDIDATE's votes in flight, its actions beside the ring
//   monitor-phone.png     390x844: the same page on a phone
//   monitor-15-dark.png   1440x900, dark: 15 nodes, one paused, one cut off
//   node-page.png         1200x800, dark: a node's own page
// Usage (after tests/e2e/run_e2e.sh installed playwright-core into
// BUILD_DIR/e2e): cd BUILD_DIR/e2e && node SOURCE_DIR/tests/e2e/docs_screenshots.mjs BUILD_DIR OUT_DIR
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const [binDir, outDir] = process.argv.slice(2);
// playwright-core lives where run_e2e.sh installed it, beside the build.
const { chromium } = createRequire(path.join(binDir, 'e2e', 'package.json'))('playwright-core');
mkdirSync(outDir, { recursive: true });

// launch_cluster always wants a token: give it one the script knows.
const TOKEN = 'e2e-token-0123456789abcdef';
const AUTH = { Authorization: 'Bearer ' + TOKEN };

async function cluster(nodes, base, timing) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'raft-shots-'));
  const child = spawn(path.join(binDir, 'launch_cluster'), [
    '--nodes', String(nodes), '--discovery_port', String(base), '--monitor_port', String(base + 1),
    '--base_port', String(base + 2), ...timing, '--initial_delay_ms', '300', '--data_dir', dataDir,
    '--fsync', 'never'], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, RAFT_AUTH_TOKEN: TOKEN } });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const t0 = Date.now();
  while (!out.includes('is up')) {
    if (Date.now() - t0 > 120000 || child.exitCode !== null) throw new Error('cluster did not come up');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: `http://127.0.0.1:${base + 1}/`,
    page: `http://127.0.0.1:${base + 1}/#token=${TOKEN}`,
    node: (rank) => `http://127.0.0.1:${base + 2 + rank}/`,
    stop: async () => { if (child.exitCode === null) child.kill('SIGINT'); await exited; rmSync(dataDir, { recursive: true, force: true }); },
  };
}

const wait = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: 60000, polling: 50 });

async function command(c, rank, cmd) {
  const res = await fetch(c.node(rank) + 'command',
    { method: 'POST', body: JSON.stringify({ cmd }), headers: AUTH });
  if (!res.ok) throw new Error(cmd + ': ' + res.status);
}

async function election(browser) {
  const c = await cluster(3, 21300, ['--min_election_timeout', '1500', '--max_election_timeout', '3000',
                                     '--heartbeat_interval', '250']);
  try {
    for (let i = 0; i < 8; i++) {
      await fetch(c.url + 'api/kv/k' + i, { method: 'PUT', body: 'v' + i, headers: AUTH });
    }
    for (const r of [0, 1, 2]) await command(c, r, 'delay all 500');
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    await page.goto(c.page);
    await wait(page, () => document.querySelectorAll('#ring g.node.s-leader').length === 1);
    const leader = await page.evaluate(() => document.querySelector('#ring g.node.s-leader').dataset.node);
    const candidate = ['0', '1', '2'].find((x) => x !== leader);
    await page.locator(`#ring g.node[data-node="${candidate}"] .body`).click();
    await page.click('#popover button:has-text("Trigger election")');
    await wait(page, () => document.querySelectorAll('#msgs .msg.granted').length > 0);
    await page.waitForTimeout(250);
    await page.evaluate(() => { for (const t of document.querySelectorAll('#toasts .toast')) t.remove(); });
    await page.screenshot({ path: path.join(outDir, 'monitor-election.png') });
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, colorScheme: 'light' });
    await phone.goto(c.page);
    await wait(phone, () => document.querySelectorAll('#ring g.node.s-leader').length === 1);
    await phone.locator(`#ring g.node[data-node="${candidate}"] .body`).click();
    await phone.waitForTimeout(500);
    await phone.screenshot({ path: path.join(outDir, 'monitor-phone.png') });
    const node = await browser.newPage({ viewport: { width: 1200, height: 800 }, colorScheme: 'dark' });
    await node.goto(c.node(Number(candidate)) + '#monitor=' + encodeURIComponent(c.url));
    await node.waitForTimeout(2500);
    await node.screenshot({ path: path.join(outDir, 'node-page.png') });
  } finally {
    await c.stop();
  }
}

async function fifteen(browser) {
  const c = await cluster(15, 21400, []);
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
    await page.goto(c.page);
    await wait(page, () => document.querySelectorAll('#ring g.node.s-leader').length === 1);
    const leader = Number(await page.evaluate(() => document.querySelector('#ring g.node.s-leader').dataset.node));
    await command(c, (leader + 3) % 15, 'pause');
    await command(c, (leader + 7) % 15, 'crash');
    await command(c, (leader + 10) % 15, 'partition ' + leader);
    await wait(page, () => document.querySelectorAll('#ring g.node.paused, #ring g.node.crashed').length === 2);
    await page.waitForTimeout(3000);
    await page.screenshot({ path: path.join(outDir, 'monitor-15-dark.png') });
  } finally {
    await c.stop();
  }
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
                                        args: ['--no-sandbox', '--disable-gpu'] });
try {
  await election(browser);
  await fifteen(browser);
} finally {
  await browser.close();
}
