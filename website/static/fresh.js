/* Whether this publication is the latest one known (README, "Out of date?"). */
"use strict";
(() => {
  const { DAY, noteMs } = BLUI;

  /* Whether a newer publication of this log, signed by the same key, is known: from the
   * site's latest.js (rewritten by every publication; an older page copied over a newer
   * one, or cached, still loads the current one) and from the largest checkpoint this
   * browser verified before (localStorage). Either may be missing, and a host serving a
   * whole older copy consistently cannot be caught by any page (README, "Publishing").
   * Two different trees of one size signed by the key are a fork: a failure. */
  const MEMORY = (signer, note) => `blockledger:${signer.key_id}:${note.origin}`;
  async function freshness(data, note) {
    const ms = noteMs(note);
    const days = Math.floor((Date.now() - ms) / DAY);
    const said = [`this publication was signed ${days >= 1 ? `${days} day${days > 1 ? "s" : ""} before` : "less than a day before"} your clock's now`];
    const root = BL.b64encode(note.root);
    let newest = { size: note.treeSize, time: note.time, root, ms };
    let stale = null;
    const after = (a, b) => a.size > b.size || (a.size === b.size && a.ms > b.ms);
    const latest = globalThis.BL_LATEST;
    if (latest === undefined) {
      said.push("no latest.js beside it to say whether a newer one exists");
    } else {
      let l;
      try {
        if (!latest || typeof latest !== "object" ||
            Object.keys(latest).sort().join() !== "checkpoint,extends" ||
            !Array.isArray(latest.extends)) throw new BL.Failure("malformed");
        l = BL.parseNote(latest.checkpoint);
        await BL.checkSignature(l, data.signer);
        if (l.origin !== note.origin) throw new BL.Failure("another log");
      } catch (error) {
        if (!(error instanceof BL.Failure)) throw error;
        l = null;
        said.push(`latest.js does not verify (${error.message}) and is ignored`);
      }
      if (l) {
        const lroot = BL.b64encode(l.root);
        if (l.treeSize === note.treeSize && lroot !== root) {
          throw new BL.Failure(`latest.js holds another tree of ${note.treeSize} events ` +
            "signed by the same key (a fork: the publisher signed two histories)");
        }
        const other = { size: l.treeSize, time: l.time, root: lroot, ms: Date.parse(l.time) };
        if (l.treeSize > note.treeSize) {
          const entry = latest.extends.find((e) => e && e.size === note.treeSize && e.root === root);
          if (!entry) {
            said.push(`the latest publication (${l.treeSize} events) gives no proof that it extends this one`);
          } else {
            const proof = Array.isArray(entry.proof) && entry.proof.length <= 130
              ? entry.proof.map((p, i) => BL.b64(p, `latest.js: proof hash ${i + 1}`)) : null;
            if (!proof || !await BL.verifyConsistency(note.treeSize, l.treeSize, note.root, l.root, proof)) {
              throw new BL.Failure(`the latest publication (${l.treeSize} events at ${l.time}) ` +
                "does not extend this one (its consistency proof fails)");
            }
            said.push(`the latest publication extends this one (consistency proof verified)`);
          }
        }
        if (after(other, newest)) {
          stale = `this site holds a newer publication: the checkpoint of ${l.treeSize} events at ${l.time}`;
          newest = other;
        } else if (other.size < note.treeSize) {
          said.push(`latest.js names an older publication (${l.treeSize} events): this host serves a mix of publications`);
        }
      }
    }
    let seen = null;
    try {
      seen = JSON.parse(localStorage.getItem(MEMORY(data.signer, note)) || "null");
    } catch (_) { seen = null; }
    if (seen && Number.isSafeInteger(seen.size) && typeof seen.root === "string") {
      if (seen.size === note.treeSize && seen.root !== root) {
        throw new BL.Failure(`your browser verified another tree of ${note.treeSize} events ` +
          `signed by the same key before (${seen.time}): a fork, the publisher signed two histories`);
      }
      if (seen.size > note.treeSize) {
        stale = stale || `your browser verified a newer publication of this log before: ` +
          `the checkpoint of ${seen.size} events at ${seen.time}`;
      }
    }
    if (!seen || !Number.isSafeInteger(seen.size) || after(newest, seen)) {
      try { localStorage.setItem(MEMORY(data.signer, note), JSON.stringify(newest)); } catch (_) { /* none */ }
    }
    return { stale, said: said.join("; ") };
  }

  BLUI.freshness = freshness;
})();
