// Takes the screenshots in docs/img/ from a real cluster (not a test):
//   monitor-election.png  1440x900, light: an election in slow motion, the
//                         CANDIDATE's votes in flight, its actions beside the ring
//   monitor-phone.png     390x844: the same page on a phone
//   monitor-15-dark.png   1440x900, dark: 15 nodes, one paused, one cut off
//   node-page.png         1200x800, dark: a node's own page
// Usage: tests/e2e/run_e2e.sh SOURCE_DIR BUILD_DIR docs_screenshots.mjs
// (it runs `node docs_screenshots.mjs BUILD_DIR OUT_DIR` beside the harness,
// OUT_DIR = BUILD_DIR/e2e/shots); then copy the four images to docs/img/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { launchChromium, startCluster, waitFor as wait } from './e2e_cluster.mjs';

const [binDir, outDir] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });

// launch_cluster always wants a token: give it one the script knows.
const TOKEN = 'e2e-token-0123456789abcdef';
const AUTH = { Authorization: 'Bearer ' + TOKEN };

/// A cluster of `nodes` that is up, or an error; stop() it when done.
async function cluster(nodes, timing) {
  const c = await startCluster(binDir, {
    token: TOKEN, portCount: nodes + 2, prefix: 'raft-shots-', quiet: true,
    flags: ['--nodes', String(nodes), ...timing, '--initial_delay_ms', '300', '--fsync', 'never'],
  });
  try {
    await c.up(120_000);
  } catch (e) {
    await c.stop();
    throw e;
  }
  return c;
}

async function command(c, rank, cmd) {
  const res = await fetch(c.nodeUrl(rank) + 'command',
    { method: 'POST', body: JSON.stringify({ cmd }), headers: AUTH });
  if (!res.ok) throw new Error(cmd + ': ' + res.status);
}

async function election(browser) {
  const c = await cluster(3, ['--min_election_timeout', '1500', '--max_election_timeout', '3000',
                                     '--heartbeat_interval', '250']);
  try {
    for (let i = 0; i < 8; i++) {
      await fetch(c.monitorUrl + 'api/kv/k' + i, { method: 'PUT', body: 'v' + i, headers: AUTH });
    }
    for (const r of [0, 1, 2]) await command(c, r, 'delay all 500');
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    await page.goto(c.monitorPage);
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
    await phone.goto(c.monitorPage);
    await wait(phone, () => document.querySelectorAll('#ring g.node.s-leader').length === 1);
    await phone.locator(`#ring g.node[data-node="${candidate}"] .body`).click();
    await phone.waitForTimeout(500);
    await phone.screenshot({ path: path.join(outDir, 'monitor-phone.png') });
    const node = await browser.newPage({ viewport: { width: 1200, height: 800 }, colorScheme: 'dark' });
    await node.goto(c.nodeUrl(Number(candidate)) + '#monitor=' + encodeURIComponent(c.monitorUrl));
    await node.waitForTimeout(2500);
    await node.screenshot({ path: path.join(outDir, 'node-page.png') });
  } finally {
    await c.stop();
  }
}

async function fifteen(browser) {
  const c = await cluster(15, []);
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
    await page.goto(c.monitorPage);
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

const browser = await launchChromium();
try {
  await election(browser);
  await fifteen(browser);
} finally {
  await browser.close();
}
