/* The page's shared pieces: DOM helpers, the badge, and refusing a page that failed.
 * Loaded before fresh.js, views.js and page.js, which take them from BLUI. Every text goes
 * in with textContent. */
"use strict";
globalThis.BLUI = (() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  };
  const SLUG = /^[a-z0-9][a-z0-9._-]{0,99}$/;
  const DAY = 86400000;
  /* Whether ``obj`` holds ``key`` itself: a value of the data (a target, a name) is never
   * looked up as a plain property, where "constructor" or "__proto__" finds
   * Object.prototype's. */
  const has = (obj, key) => obj !== null && typeof obj === "object" &&
    Object.prototype.hasOwnProperty.call(obj, key);

  /* The checkpoint's signed time, the one "now" the page may speak of. */
  function noteMs(note) {
    const ms = Date.parse(note.time);
    if (Number.isNaN(ms)) throw new BL.Failure("the checkpoint's time is not a date");
    return ms;
  }
  const asOf = (note) => `as of ${note.time}, the checkpoint of ${note.treeSize} events`;

  function badge(ok, text, stale) {
    const b = $("badge");
    b.className = `badge ${ok ? (stale ? "stale" : "ok") : "bad"}`;
    b.firstElementChild.textContent = ok ? (stale ? "\u26a0" : "\u2714") : "\u2718";
    $("badge-text").textContent = text;
  }

  /* Nothing is shown of a page that failed, whenever it fails (a chunk of snapshots may
   * fail after the rest verified), and it stays failed: "Verify" again checks only what
   * the page carries, not the files loaded later (search index, snapshot chunks), whose
   * failed loads are kept; so the first failure is shown again until the page is
   * reloaded (with good files). */
  let failed = null;
  function refuse(error) {
    failed = failed || error;
    error = failed;
    const why = error instanceof BL.Failure ? error.message : `the verifier failed: ${error}`;
    const list = $("events");
    if (list) list.replaceChildren();
    const table = document.querySelector("table.platforms");
    if (table) {
      table.hidden = true;
      $("f-count").textContent = "Not shown: this page did not verify.";
    }
    const controls = document.querySelector(".day-controls");
    if (controls) controls.hidden = true;
    for (const id of ["day-out", "now-line", "now-links", "now-obs", "now-each", "headline"]) {
      const node = $(id);
      if (node) node.replaceChildren(el(node.tagName === "UL" ? "li" : "span",
                                        "Not shown: this page did not verify.", "bad"));
    }
    badge(false, `NOT VERIFIED: ${why}. Nothing on this page is proven; the history is not shown.`);
    document.querySelectorAll(".archive-result").forEach((n) => { n.textContent = "not verified"; n.className = "archive-result bad"; });
  }

  /* The failure this page already showed, if any (refuse). */
  const failure = () => failed;

  return { $, el, SLUG, DAY, has, noteMs, asOf, badge, refuse, failure };
})();
