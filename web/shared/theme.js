// The light/dark switch shared by the monitor's page and the node pages
// (served as /theme.js by both). Loaded without `defer` in <head>, so the
// theme is set before anything is drawn. The choice is kept per browser
// (localStorage "raft_theme"); without one the system's preference wins.
// Every element with a data-theme-toggle attribute becomes the switch.
'use strict';

(() => {
  const KEY = 'raft_theme';
  const root = document.documentElement;

  function saved() {
    try { return localStorage.getItem(KEY); } catch (_) { return null; }
  }
  function preferred() {
    return window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }
  function apply(theme) {
    root.dataset.theme = theme === 'dark' ? 'dark' : 'light';
    for (const b of document.querySelectorAll('[data-theme-toggle]')) {
      b.textContent = root.dataset.theme === 'dark' ? '☀ light' : '☾ dark';
      b.title = 'Switch to the ' + (root.dataset.theme === 'dark' ? 'light' : 'dark') + ' theme';
    }
    document.dispatchEvent(new CustomEvent('raft-theme'));
  }
  const first = saved();
  apply(first === 'dark' || first === 'light' ? first : preferred());

  document.addEventListener('DOMContentLoaded', () => {
    for (const b of document.querySelectorAll('[data-theme-toggle]')) {
      b.addEventListener('click', () => {
        const next = root.dataset.theme === 'dark' ? 'light' : 'dark';
        try { localStorage.setItem(KEY, next); } catch (_) { /* private mode */ }
        apply(next);
      });
    }
    apply(root.dataset.theme);
  });
})();
