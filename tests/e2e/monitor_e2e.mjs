// The web monitor in a real browser: launch_cluster starts 3 nodes, headless
// Debian Chromium (driven by playwright-core) opens the monitor and walks
// what a user does to watch Raft:
//   - slow motion: from the ring, each node gets `delay all 300` (typed into
//     the free-text command of the actions that open beside the node);
//   - a forced election from the ring (Trigger election): a CANDIDATE and
//     vote messages on the ring, then a new leader;
//   - pause, and step back through the election with the slider;
//   - reload the page and replay the election from the monitor's history;
//   - pause the leader from the ring: it is drawn PAUSED, another leads;
//   - screenshots at 1440x900 (ring and actions together, checked by their
//     boxes) and 390x844 (ring first, the newest log entries in view);
//   - user text is never rendered as markup, and the page raises no errors.
// Every process it starts is stopped by PID.
//
// Usage: node monitor_e2e.mjs BIN_DIR SCREENSHOT_DIR
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DEADLINE_MS, finish, launchChromium, startCluster, step, waitFor } from './e2e_cluster.mjs';

// launch_cluster always wants a token: give it one the test knows.
const TOKEN = 'e2e-token-0123456789abcdef';
const [binDir, shotDir] = process.argv.slice(2);
mkdirSync(shotDir, { recursive: true });

// Timeouts scaled up for slow motion: with 300 ms on every message an
// election takes about a second, well inside 1.5-3 s.
const cluster = await startCluster(binDir, {
  token: TOKEN, portCount: 5, prefix: 'raft-e2e-',
  flags: ['--nodes', '3', '--min_election_timeout', '1500', '--max_election_timeout', '3000',
          '--heartbeat_interval', '250', '--initial_delay_ms', '300', '--fsync', 'never'],
});

async function openPage(browser, viewport, errors) {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(cluster.monitorPage);
  return page;
}

/// Opens the actions of node `id` by clicking it on the ring.
async function openActions(page, id) {
  const open = await page.evaluate(() => document.querySelector('#popover').dataset.node);
  const visible = await page.locator('#popover').isVisible();
  if (!(visible && open === id)) await page.locator(`#ring g.node[data-node="${id}"] .body`).click();
  await waitFor(page, (n) => !document.querySelector('#popover').hidden &&
    document.querySelector('#popover').dataset.node === n, id);
}

async function command(page, id, text) {
  await openActions(page, id);
  await page.fill('#popover .freetext input', text);
  await page.click('#popover .freetext button');
  await waitFor(page, () => [...document.querySelectorAll('#toasts .toast.ok')].length > 0);
  await page.evaluate(() => { for (const t of document.querySelectorAll('#toasts .toast')) t.remove(); });
}

const leaderId = (page) => page.evaluate(() => {
  const g = document.querySelector('#ring g.node.s-leader:not(.paused):not(.stale)');
  return g ? g.dataset.node : null;
});

/// Both boxes inside the viewport.
async function inView(page, selectors, viewport) {
  for (const sel of selectors) {
    const box = await page.locator(sel).boundingBox();
    if (!box) throw new Error(sel + ' is not shown');
    if (box.x < 0 || box.y < 0 || box.x + box.width > viewport.width + 1 || box.y + box.height > viewport.height + 1) {
      throw new Error(`${sel} is not wholly in view at ${viewport.width}x${viewport.height}: ${JSON.stringify(box)}`);
    }
  }
}

let browser;
let page;
let error = null;
try {
  await cluster.up();
  browser = await launchChromium();
  const errors = [];
  const desk = { width: 1440, height: 900 };
  page = await openPage(browser, desk, errors);
  await waitFor(page, () => document.querySelectorAll('#ring g.node').length === 3 &&
    document.querySelectorAll('#cards .card').length === 3);
  await waitFor(page, () => document.querySelectorAll('#ring g.node.s-leader').length === 1);
  const first = await leaderId(page);
  step(`3 nodes on the ring, node ${first} leads`);

  // Slow motion, typed into each node's actions beside the ring.
  for (const id of ['0', '1', '2']) await command(page, id, 'delay all 300');
  await waitFor(page, () => document.querySelectorAll('#ring .link.delayed').length === 6);
  step('every node holds each message for 300 ms: delayed links drawn');

  // A forced election from the ring.
  const candidate = ['0', '1', '2'].find((id) => id !== first);
  await openActions(page, candidate);
  await page.click('#popover button:has-text("Trigger election")');
  await waitFor(page, (n) => !!document.querySelector(`#ring g.node.s-candidate[data-node="${n}"]`), candidate);
  await waitFor(page, () => document.querySelectorAll('#msgs .msg.vote').length > 0);
  step(`node ${candidate} is CANDIDATE and its vote requests fly`);
  await waitFor(page, () => document.querySelectorAll('#msgs .msg.granted').length > 0);
  step('granted votes fly back');
  await waitFor(page, (n) => !!document.querySelector(`#ring g.node.s-leader[data-node="${n}"]:not(.stale)`), candidate);
  step(`node ${candidate} leads`);
  await inView(page, ['#ring', '#popover'], desk);
  await page.screenshot({ path: path.join(shotDir, 'monitor-1440x900.png') });
  step('1440x900: the ring and the actions are in view together');

  // Pause and step back through the election with the slider.
  await page.click('#play-pause');
  await page.focus('#slider');
  let seen = null;
  for (let i = 0; i < 800 && !seen; i++) {
    await page.keyboard.press('ArrowLeft');
    seen = await page.evaluate(() => {
      const c = document.querySelector('#ring g.node.s-candidate');
      return c && document.querySelector('#view-time').classList.contains('past') ? c.dataset.node : null;
    });
  }
  if (seen !== candidate) throw new Error('stepping back with the slider never showed the CANDIDATE');
  step(`paused; the slider stepped back to node ${candidate} as CANDIDATE`);

  // Reload: the history comes back from the monitor; replay the election.
  await page.close();
  page = await openPage(browser, desk, errors);
  await waitFor(page, () => [...document.querySelectorAll('#events li')].some((li) => li.dataset.kind === 'CANDIDATE'));
  await page.evaluate(() => {
    // The newest CANDIDATE first in the list: the election forced above.
    const li = [...document.querySelectorAll('#events li')].find((x) => x.dataset.kind === 'CANDIDATE');
    li.click();
  });
  await waitFor(page, (n) => !!document.querySelector(`#ring g.node.s-candidate[data-node="${n}"]`), candidate);
  step('after a reload the history shows the CANDIDATE again');
  await page.selectOption('#play-speed', '0.5');
  await page.click('#play-replay');
  await waitFor(page, () => document.querySelectorAll('#msgs .msg.vote, #msgs .msg.granted').length > 0, undefined, 15_000);
  step('replaying at 0.5x: the votes fly again');
  await page.click('#play-live');

  // Pause the leader from the ring: drawn PAUSED; another node leads.
  await waitFor(page, () => document.querySelector('#view-time').textContent.startsWith('live') &&
    !!document.querySelector('#ring g.node.s-leader:not(.paused):not(.stale)'));
  const leader = await leaderId(page);
  await openActions(page, leader);
  await page.click('#popover button:has-text("Pause")');
  await waitFor(page, (n) => !!document.querySelector(`#ring g.node.paused[data-node="${n}"]`), leader);
  await waitFor(page, (n) => {
    const g = document.querySelector('#ring g.node.s-leader:not(.paused):not(.stale)');
    return g && g.dataset.node !== n;
  }, leader);
  const paused = await page.evaluate((n) => document.querySelector(`#ring g.node[data-node="${n}"] .caption`).textContent, leader);
  if (paused !== 'PAUSED') throw new Error(`a paused node is captioned '${paused}', not PAUSED`);
  step(`paused node ${leader} is drawn PAUSED; node ${await leaderId(page)} leads`);
  await page.click('#popover button:has-text("Resume")');
  for (const id of ['0', '1', '2']) await command(page, id, 'heal');

  // Writes, then the phone: ring first, the newest log entries in view.
  for (let i = 0; i < 30; i++) {
    const key = i === 29 ? '<b>e2e</b>' : 'k' + i;
    await page.evaluate(async ([k, token]) => {
      await fetch('/api/kv/' + encodeURIComponent(k),
        { method: 'PUT', body: 'v', headers: { Authorization: 'Bearer ' + token } });
    }, [key, TOKEN]);
  }
  await waitFor(page, () => document.querySelectorAll('#logs .log-row').length === 3 &&
    [...document.querySelectorAll('#logs .log-row')].every((r) =>
      [...r.querySelectorAll('.log-cell')].some((c) => (c.title || '').includes('<b>e2e</b>'))));
  if (await page.locator('#logs b, #cards b, #events b').count() !== 0) throw new Error('user text was rendered as HTML');
  step('30 writes are in every node\'s log, as text');
  const phone = { width: 390, height: 844 };
  const small = await openPage(browser, phone, errors);
  await waitFor(small, () => document.querySelectorAll('#ring g.node.s-leader').length === 1);
  const head = await small.locator('.topbar').boundingBox();
  if (head.height > 60) throw new Error(`the phone header is ${head.height}px tall`);
  await inView(small, ['#ring'], phone);
  await openActions(small, '1');
  const pop = await small.locator('#popover').boundingBox();
  if (pop.y > phone.height - 120) throw new Error('on a phone the actions do not start in view under the ring');
  await small.screenshot({ path: path.join(shotDir, 'monitor-390x844.png') });
  step('390x844: the ring, then the actions under it');
  await small.locator('#logs').scrollIntoViewIfNeeded();
  await waitFor(small, () => [...document.querySelectorAll('#logs .log-row')].some((r) =>
    [...r.querySelectorAll('.log-cell')].some((c) => (c.title || '').includes('<b>e2e</b>'))));
  const newest = small.locator('#logs .log-row').first().locator('.log-cell').last();
  const box = await newest.boundingBox();
  if (!box || box.x + box.width > phone.width) throw new Error('the newest log entry is out of view on a phone');
  step('on a phone the newest log entry is in view');
  if (errors.length) throw new Error('page errors: ' + errors.join('; '));
} catch (e) {
  error = e;
}
await finish(cluster, { error, browser, page, shot: path.join(shotDir, 'failure.png') });
