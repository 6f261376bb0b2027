// Growing and shrinking a real cluster from the web monitor, in headless
// Debian Chromium (driven by playwright-core). launch_cluster starts 3 voters
// and 2 spare ranks; the test only clicks the page:
//   - the spares are drawn on the shelf under the ring, apart from the members;
//   - node 4: "Add as learner" -> on the ring, drawn hollow, quorum unchanged;
//   - node 3: "Add as voter" (add_node) -> it moves onto the ring as a voter,
//     the quorum shown grows, and the leader's and its own /status list it
//     among the voters;
//   - node 4: "Promote to voter" -> a voter;
//   - a refused change (add_node of a voter, typed in the free-text command
//     to the leader) shows the node's one-line reason;
//   - node 3: "Remove" -> its /status says STANDBY, it is back on the shelf
//     and out of every voters list;
//   - the leader: "Remove" -> another node leads, the old one is STANDBY.
// It waits for conditions, never for fixed times, and stops what it starts
// by PID.
//
// Usage: node membership_e2e.mjs BIN_DIR SCREENSHOT_DIR
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DEADLINE_MS, finish, launchChromium, startCluster, step, waitFor } from './e2e_cluster.mjs';

const TOKEN = 'e2e-token-membership-0123456789';
const [binDir, shotDir] = process.argv.slice(2);
mkdirSync(shotDir, { recursive: true });

const cluster = await startCluster(binDir, {
  token: TOKEN, portCount: 7, prefix: 'raft-e2e-members-',
  flags: ['--nodes', '3', '--spares', '2', '--min_election_timeout', '600',
          '--max_election_timeout', '1200', '--heartbeat_interval', '150', '--initial_delay_ms', '300',
          '--fsync', 'never'],
});

/// Where node `id` is drawn: 'ring' (on the orbit), 'shelf' (under the
/// ring) or null; read from the drawing itself, not from the page's state.
const placeOf = (page, id) => page.evaluate((n) => {
  const body = document.querySelector(`#ring g.node[data-node="${n}"] .body`);
  if (!body) return null;
  const x = Number(body.getAttribute('cx')), y = Number(body.getAttribute('cy'));
  if (y > 600) return 'shelf';
  return Math.abs(Math.hypot(x - 300, y - 300) - 215) < 2 || (x === 300 && y === 300) ? 'ring' : null;
}, id);

async function waitPlace(page, id, want) {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const at = await placeOf(page, id);
    if (at === want) return;
    if (Date.now() > deadline) throw new Error(`node ${id} is drawn at ${at}, not on the ${want}`);
    await page.waitForTimeout(50);
  }
}

/// Node `id`'s /status, read through the monitor (as the page reads it).
const nodeStatus = (page, id) => page.evaluate(async (n) => {
  const r = await fetch('/api/nodes/' + n + '/status', { cache: 'no-store' });
  return r.ok ? r.json() : null;
}, id);

/// Polls node `id`'s /status until `check` holds.
async function waitStatus(page, id, what, check) {
  const deadline = Date.now() + DEADLINE_MS;
  let last = null;
  for (;;) {
    last = await nodeStatus(page, id);
    if (last && check(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`node ${id}: ${what} never held; last /status: ` +
        JSON.stringify(last && { state: last.state, voters: last.voters, learners: last.learners, config_index: last.config_index }));
    }
    await page.waitForTimeout(100);
  }
}

const leaderId = (page) => page.evaluate(() => {
  const g = document.querySelector('#ring g.node.s-leader:not(.paused):not(.stale)');
  return g ? g.dataset.node : null;
});

/// Opens node `id`'s actions by clicking it (on the ring or the shelf).
async function openActions(page, id) {
  const open = await page.evaluate(() => document.querySelector('#popover').dataset.node);
  const visible = await page.locator('#popover').isVisible();
  if (!(visible && open === id)) await page.locator(`#ring g.node[data-node="${id}"] .body`).click();
  await waitFor(page, (n) => !document.querySelector('#popover').hidden &&
    document.querySelector('#popover').dataset.node === n, id);
}

/// Clicks a membership button of node `id` and waits for the leader's answer.
async function membership(page, id, label) {
  await openActions(page, id);
  await page.evaluate(() => { const r = document.querySelector('#popover .member-result'); r.textContent = ''; r.className = 'member-result'; });
  await page.click(`#popover .membership button:has-text("${label}")`);
  await waitFor(page, () => /\b(ok|err)\b/.test(document.querySelector('#popover .member-result').className));
  const [cls, text] = await page.evaluate(() => {
    const r = document.querySelector('#popover .member-result');
    return [r.className, r.textContent];
  });
  if (!cls.includes('ok')) throw new Error(`${label} on node ${id} was refused: ${text}`);
  step(`${label} on node ${id}: ${text}`);
}

const configPill = (page) => page.evaluate(() => document.querySelector('#config-pill').textContent);

async function waitPill(page, re) {
  await waitFor(page, (src) => new RegExp(src).test(document.querySelector('#config-pill').textContent), re.source);
}

let browser;
let page;
let error = null;
try {
  await cluster.up();
  browser = await launchChromium();
  const errors = [];
  // A refused command is answered 400, which Chromium logs as an error: only
  // while a refusal is expected is that one not a failure.
  let refusalExpected = false;
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (refusalExpected && /status of 400/.test(m.text())) return;
    errors.push(m.text());
  });
  await page.goto(cluster.monitorPage);

  // Three voters on the ring, two spares on the shelf.
  await waitFor(page, () => document.querySelectorAll('#ring g.node.voter').length === 3 &&
    document.querySelectorAll('#ring g.node.spare').length === 2 &&
    document.querySelectorAll('#ring g.node.s-leader').length === 1);
  for (const id of ['0', '1', '2']) await waitPlace(page, id, 'ring');
  for (const id of ['3', '4']) await waitPlace(page, id, 'shelf');
  await waitPill(page, /voters: 3 · quorum 2.*spares 3, 4/);
  step(`3 voters on the ring (node ${await leaderId(page)} leads), spares 3 and 4 on the shelf`);

  // Node 4 as a learner: on the ring, drawn hollow; node 3 stays on the shelf.
  const leader = await leaderId(page);
  await membership(page, '4', 'Add as learner');
  await waitFor(page, () => !!document.querySelector('#ring g.node.learner[data-node="4"]:not(.joining)'));
  await waitPlace(page, '4', 'ring');
  const hollow = await page.evaluate(() =>
    getComputedStyle(document.querySelector('#ring g.node[data-node="4"] .body')).strokeDasharray);
  if (!hollow || hollow === 'none') throw new Error('a learner is not drawn dashed');
  await waitPill(page, /voters: 3 · quorum 2 · learners 4 · spares 3/);
  const added = await waitStatus(page, leader, 'node 4 is a learner', (s) => s.learners.includes('4'));
  step('node 4 is a learner, drawn hollow on the ring; the quorum stays 2 of 3');
  await page.evaluate(() => { for (const t of document.querySelectorAll('#toasts .toast')) t.remove(); });
  await page.screenshot({ path: path.join(shotDir, 'membership-1440x900.png') });

  // Grow: node 3 as a voter.
  await membership(page, '3', 'Add as voter');
  await waitFor(page, () => !!document.querySelector('#ring g.node.voter[data-node="3"]:not(.joining)'));
  await waitPlace(page, '3', 'ring');
  await waitPill(page, /voters: 4 · quorum 3 · learners 4/);
  await waitStatus(page, leader, 'voters include 3', (s) => s.voters.includes('3'));
  await waitStatus(page, '3', 'node 3 is a voting FOLLOWER', (s) => s.voters.includes('3') && s.state === 'FOLLOWER');
  step('node 3 is a voter: on the ring, quorum 3 of 4, in the voters of its own and the leader\'s /status');

  // Promotion wants a learner that has caught up: wait until it holds the
  // configuration entry that added it.
  await waitStatus(page, '4', 'node 4 caught up', (s) => s.commit_index >= added.config_index);
  await membership(page, '4', 'Promote to voter');
  await waitFor(page, () => !!document.querySelector('#ring g.node.voter[data-node="4"]'));
  await waitPill(page, /voters: 5 · quorum 3/);
  await waitStatus(page, leader, 'voters include 4', (s) => s.voters.includes('4') && !s.learners.includes('4'));
  step('node 4 promoted: 5 voters, quorum 3');

  // A refusal shows the node's one-line reason.
  await openActions(page, leader);
  refusalExpected = true;
  await page.fill('#popover .freetext input', 'add_node 3');
  await page.click('#popover .freetext button');
  await waitFor(page, () => [...document.querySelectorAll('#toasts .toast.err')].some((t) => /already a voter/.test(t.textContent)));
  refusalExpected = false;
  step('add_node of a voter is refused with the node\'s reason');

  // Shrink: node 3 back to STANDBY.
  await membership(page, '3', 'Remove');
  await waitStatus(page, '3', 'node 3 is STANDBY', (s) => s.state === 'STANDBY');
  await waitStatus(page, leader, 'voters without 3', (s) => !s.voters.includes('3'));
  await waitFor(page, () => !!document.querySelector('#ring g.node.spare.s-standby[data-node="3"]'));
  await waitPlace(page, '3', 'shelf');
  await waitPill(page, /voters: 4 · quorum 3.*spares 3/);
  step('node 3 removed: STANDBY, back on the shelf, out of the voters');

  // Remove the leader: it hands over and leaves the ring.
  await membership(page, leader, 'Remove');
  await waitStatus(page, leader, `old leader ${leader} is STANDBY`, (s) => s.state === 'STANDBY');
  await waitFor(page, (n) => {
    const g = document.querySelector('#ring g.node.s-leader:not(.paused):not(.stale)');
    return g && g.dataset.node !== n && g.classList.contains('voter');
  }, leader);
  await waitPlace(page, leader, 'shelf');
  await waitPill(page, /voters: 3 · quorum 2/);
  step(`leader ${leader} removed: node ${await leaderId(page)} leads 3 voters, ${leader} is on the shelf`);
  if (errors.length) throw new Error('page errors: ' + errors.join('; '));
  console.log('e2e: config shown: ' + await configPill(page));
} catch (e) {
  error = e;
}
await finish(cluster, { error, browser, page, shot: path.join(shotDir, 'membership-failure.png') });
