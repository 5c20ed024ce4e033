/* The page's behaviour: verify on load (and on "Verify"), render the history only from
 * the verified bytes, the day slider over the publisher's status snapshots, the home
 * page's filters. Every text goes in with textContent; links only for http(s) URLs. */
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  };
  const TOP = {
    home: ["page", "checkpoint", "signer", "events", "rows", "rows_signature", "archive",
           "part", "parts"],
    platform: ["page", "checkpoint", "signer", "subject", "name", "events", "index",
               "snapshots", "snapshots_now", "snapshots_signature", "operators"],
    order: ["page", "checkpoint", "signer", "subject", "events", "index", "headline",
            "headline_signature", "operators"],
    request: ["page", "checkpoint", "signer", "subject", "events", "index", "headline",
              "headline_signature", "operators"],
    history: ["page", "checkpoint", "signer", "subject", "events", "index", "operators"],
    downloads: ["page", "checkpoint", "signer", "events"],
  };
  const SLUG = /^[a-z0-9][a-z0-9._-]{0,99}$/;
  const DAY = 86400000;

  /* A page proves one subject: it must be that subject's file (platform/telegram.html),
   * or a host could copy one platform's (or order's) green page over another's. */
  function checkPlace(data) {
    if (data.page === "home") {
      // Part 1 is the site's index.html (or its directory, as a host serves it); part N
      // is home/N.html: no part can stand for another.
      const at = location.pathname.split("/");
      const [dir, file] = [at[at.length - 2] || "", at[at.length - 1]];
      const ok = Number.isSafeInteger(data.part) && Number.isSafeInteger(data.parts) &&
        data.part >= 1 && data.part <= data.parts &&
        (data.part === 1 ? file === "index.html" || file === ""
                         : file === `${data.part}.html` && dir === "home");
      if (!ok) {
        throw new BL.Failure(`this page is part ${data.part} of the list of platforms, but it ` +
          `was opened as ${dir}/${file} (a page copied over another's)`);
      }
      return;
    }
    if (!["platform", "order", "request", "history"].includes(data.page)) return;
    if (typeof data.subject !== "string" || !SLUG.test(data.subject)) {
      throw new BL.Failure("the page's subject is not a slug");
    }
    const parts = location.pathname.split("/");
    let file; let dir; let above;
    try {
      file = decodeURIComponent(parts[parts.length - 1]);
      dir = decodeURIComponent(parts[parts.length - 2] || "");
      above = decodeURIComponent(parts[parts.length - 3] || "");
    } catch (_) { throw new BL.Failure("the page's address cannot be read"); }
    if (data.page === "history") {
      // history/<platform>/<part>.html: part 1 is the platform's own page.
      const part = data.index && data.index.part;
      if (file !== `${part}.html` || dir !== data.subject || above !== "history" || part < 2) {
        throw new BL.Failure(`this page proves part ${part} of ${data.subject}'s history, but ` +
          `it was opened as ${above}/${dir}/${file} (a page copied over another's)`);
      }
      return;
    }
    if (file !== `${data.subject}.html` || dir !== data.page) {
      throw new BL.Failure(`this page proves ${data.page} ${data.subject}, but it was opened ` +
        `as ${dir}/${file} (a page copied over another's)`);
    }
  }

  /* Which part of a platform's history a page carries (1 of 1 for most). */
  function checkPart(index) {
    if (!index || typeof index !== "object" || Array.isArray(index) ||
        Object.keys(index).sort().join() !== "part,parts,per_page,platform,proof" ||
        ![index.part, index.parts, index.per_page].every((v) => Number.isSafeInteger(v) && v >= 1) ||
        index.part > index.parts) {
      throw new BL.Failure("the page's part of the history is malformed");
    }
    return index;
  }

  /* The checkpoint's signed time, the one "now" the page may speak of. */
  function noteMs(note) {
    const ms = Date.parse(note.time);
    if (Number.isNaN(ms)) throw new BL.Failure("the checkpoint's time is not a date");
    return ms;
  }
  const asOf = (note) => `as of ${note.time}, the checkpoint of ${note.treeSize} events`;
  function readData() {
    let data;
    try { data = JSON.parse($("bl-data").textContent); } catch (_) {
      throw new BL.Failure("the page's data is not JSON");
    }
    const keys = data && TOP[data.page];
    if (!keys || Object.keys(data).sort().join() !== keys.slice().sort().join()) {
      throw new BL.Failure("the page's data has other fields than expected");
    }
    if (!Array.isArray(data.events)) throw new BL.Failure("the page's events are not a list");
    return data;
  }

  function badge(ok, text, stale) {
    const b = $("badge");
    b.className = `badge ${ok ? (stale ? "stale" : "ok") : "bad"}`;
    b.firstElementChild.textContent = ok ? (stale ? "\u26a0" : "\u2714") : "\u2718";
    $("badge-text").textContent = text;
  }

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

  function safeUrl(url) {
    if (typeof url !== "string" || !/^https?:\/\//i.test(url)) return null;
    try {
      const u = new URL(url);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (_) { return null; }
  }
  function value(v) {
    if (Array.isArray(v)) return v.map(value).join(", ");
    if (v && typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function renderEvent(n, ev, signer) {
    const li = el("li"); li.id = `ev-${n}`;
    const head = el("p");
    head.append(el("strong", ev.occurred_at), " ", el("code", ev.type), " ",
                el("span", ev.subject, "mono"));
    li.append(head);
    const dl = el("dl", null, "data");
    for (const k of Object.keys(ev.data)) { dl.append(el("dt", k), el("dd", value(ev.data[k]))); }
    li.append(dl);
    if (ev.note) li.append(el("p", ev.note, "note"));
    const sources = el("ul", null, "sources");
    for (const s of ev.sources) {
      const item = el("li");
      const href = s && safeUrl(s.url);
      if (href) {
        const a = el("a", s.title || s.url); a.href = href; a.rel = "noreferrer"; item.append(a);
      } else {
        item.append(el("span", [s && s.title, s && s.url, s && s.quote].filter(Boolean).join(" ")));
      }
      sources.append(item);
    }
    li.append(sources);
    li.append(el("p", `recorded ${ev.recorded_at} by ${ev.recorded_by}; position ${ev.position}; ` +
      (signer ? `signed by ${signer} (signature verified)` : "not signed (written before the first operator)"), "meta"));
    return li;
  }

  async function verify() {
    const list = $("events");
    if (list) list.replaceChildren();
    const b = $("badge");
    b.className = "badge pending"; $("badge-text").textContent = "Verifying\u2026";
    try {
      const data = readData();
      const note = BL.parseNote(data.checkpoint);
      if ((data.page === "platform" || data.page === "history") &&
          (!data.index || data.index.platform !== data.subject)) {
        throw new BL.Failure(`the page is about ${data.subject} but proves the events of ` +
                             `${data.index && data.index.platform}`);
      }
      if (data.page === "platform" && data.index.part !== 1) {
        throw new BL.Failure("a platform's page carries a later part of its history");
      }
      checkPlace(data);
      const by = await BL.checkSignature(note, data.signer);
      const verified = [];
      for (const item of data.events) verified.push([item.n, await BL.checkEvent(item, note)]);
      // Who signed each event, by the keys the ledger's own operator events register.
      const signers = new Map();
      let attributed = "";
      if (data.operators === null) {
        if (verified.length) throw new BL.Failure("the page carries no operator events");
      } else if (data.operators !== undefined) {
        const ops = await BL.checkOperators(data.operators, note);
        for (const [i, item] of data.events.entries()) {
          const who = await BL.checkAttribution(item, verified[i][1], ops.list, `event ${item.n}`);
          if (who) signers.set(item.n, who);
        }
        for (const [item, ev] of ops.events) {
          await BL.checkAttribution(item, ev, ops.list, `operator event ${item.n}`);
        }
        const unsigned = verified.length - signers.size;
        attributed = !ops.list.length ? "; no operator is registered, so no event is signed"
          : `; ${signers.size} of them signed by their recorders (Ed25519, with the keys of ` +
            `the ledger's ${ops.list.length} operator${ops.list.length > 1 ? "s" : ""}, whose ` +
            "events verify and are all there)" +
            (unsigned ? `, ${unsigned} written before the first operator and unsigned` : "");
      }
      let complete = "";
      if (data.index) {
        // Every event the checkpoint's platform index holds for the platform is on the
        // page, and nothing else: none was left out or added.
        const part = checkPart(data.index);
        const { positions: proven, offset, count } =
          await BL.checkRange(data.index.platform, data.index.proof, note);
        // The part's place in the run is proven (offset, count): it must be the part the
        // page is numbered as, and hold all of it, so no part can stand for another.
        const expected = Math.min(part.per_page, count - offset);
        if (offset !== (part.part - 1) * part.per_page || proven.length !== expected ||
            part.parts !== Math.max(1, Math.ceil(count / part.per_page))) {
          throw new BL.Failure(`part ${part.part} of ${data.index.platform}'s history does ` +
            "not carry that part of its events");
        }
        const carried = verified.map(([, ev]) => ev.position);
        const have = new Set(carried); const holds = new Set(proven);
        const missing = proven.filter((p) => !have.has(p));
        if (missing.length) {
          throw new BL.Failure(`the event at position ${missing[0]}, which concerns ` +
            `${data.index.platform}, is missing from the page (an event was left out)`);
        }
        const foreign = verified.find(([, ev]) => !holds.has(ev.position));
        if (foreign) {
          throw new BL.Failure(`event ${foreign[0]} does not concern ` +
            `${data.index.platform} (a foreign event was added)`);
        }
        if (have.size !== carried.length) throw new BL.Failure("an event is repeated");
        complete = part.parts === 1
          ? `; none of ${data.index.platform}'s events is left out (platform index)`
          : `; none of ${data.index.platform}'s events ${offset + 1}\u2013${offset + proven.length} ` +
            `of ${count} is left out (platform index)`;
        const range = $("part-range");
        if (range) range.textContent = `Events ${offset + 1}\u2013${offset + proven.length} of ${count}, as recorded (verified).`;
        if ((data.page === "order" || data.page === "request") && data.headline &&
            data.headline.complete_on !== null) {
          throw new BL.Failure("the headline says the page is not complete, but it is");
        }
      } else if (data.page === "order" || data.page === "request") {
        // A long platform's order or request: only its own events, each proven; the
        // publisher's signed headline names the platform whose history pages prove them
        // complete (so no host can take the proof off a page that had one).
        const on = data.headline && data.headline.complete_on;
        if (typeof on !== "string" || !SLUG.test(on) ||
            !(data.headline.platforms || []).includes(on)) {
          throw new BL.Failure("the page carries no completeness proof");
        }
        complete = `; this page does not prove that none of ${data.subject}'s events is ` +
          `left out: the history pages of ${on} do`;
      } else if (data.page !== "home" && data.page !== "downloads") {
        throw new BL.Failure("the page carries no completeness proof");
      }
      if (data.page === "platform") {
        await BL.checkStatement("snapshots", { platform: data.subject, name: data.name,
                                               chunks: data.snapshots },
                                data.snapshots_signature, note, data.signer);
        await chunkNow(data, note);
        complete += "; the name and day-by-day status are the ones the publisher signed";
      }
      if (data.page === "order" || data.page === "request") {
        const h = data.headline;
        if (!h || typeof h !== "object" || h.kind !== data.page || h.subject !== data.subject) {
          throw new BL.Failure(`the headline is not about ${data.page} ${data.subject}`);
        }
        await BL.checkStatement("subject", h, data.headline_signature, note, data.signer);
        complete += "; the state, authority and platforms shown are the ones the publisher signed";
      }
      if (data.page === "home") {
        await BL.checkStatement("home", { rows: data.rows, part: data.part, parts: data.parts },
                                data.rows_signature, note, data.signer);
        complete += "; the list of platforms is the one the publisher signed";
      }
      // A platform page shows its platform's events; an order's or request's page, those
      // whose verified bytes name it. The heading says whose they are, from those bytes.
      const shown = verified.filter(([, ev]) => data.page === "platform" ||
                                    data.page === "history" || ev.subject === data.subject);
      const creating = { platform: "platform-registered", order: "blocked",
                         request: "normalization-requested" }[data.page];
      if (creating) {
        const made = shown.find(([, ev]) => ev.type === creating && ev.subject === data.subject);
        if (!made) throw new BL.Failure(`no verified event creates ${data.subject}`);
        $("subject-ref").textContent = data.subject;
        if (data.page === "platform") $("subject-name").textContent = data.name;
        document.title = `${data.page === "platform" ? data.name : data.subject} \u00b7 ${document.title.split(" \u00b7 ").pop()}`;
      }
      let earlier = 0;
      for (const [i, item] of (data.archive || []).entries()) {
        const old = await BL.checkEarlier(item, note, data.signer);
        const info = document.querySelector(`[data-archive-info="${i}"]`);
        if (info) info.textContent = `${old.treeSize} events, ${old.time}`;
        const out = document.querySelector(`[data-archive="${i}"]`);
        if (out) { out.textContent = "\u2714 extended by this checkpoint (consistency proof verified)"; out.className = "archive-result ok"; }
        earlier += 1;
      }
      for (const [n, ev] of shown) list.append(renderEvent(n, ev, signers.get(n)));
      if (data.page === "platform") { platformNow(data, note); slider(data, note); }
      if (data.page === "order" || data.page === "request") headline(data.headline, note);
      if (data.page === "home") homeRows(data.rows, data.part === 1 ? "" : "../");
      document.querySelectorAll("[data-cp]").forEach((node) => {
        // What the reader compares is what was checked: the key the signature verified
        // with, not what the HTML said.
        node.textContent = { origin: note.origin, size: note.treeSize,
                             root: BL.b64encode(note.root), time: note.time,
                             signer: data.signer.name, key_id: data.signer.key_id,
                             public_key: data.signer.public_key }[node.dataset.cp];
      });
      const fresh = await freshness(data, note);
      const out = $("stale");
      if (out) {
        out.hidden = !fresh.stale;
        out.textContent = fresh.stale ? `Out of date: ${fresh.stale}. This page shows the ` +
          `publication of ${note.treeSize} events at ${note.time}; open the site's home ` +
          "page again (a cache or the host served an older copy)." : "";
      }
      badge(true, (fresh.stale ? `OUT OF DATE (${fresh.stale}). ` : "") +
        `Verified in your browser: the checkpoint of ${note.treeSize} events at ` +
        `${note.time} (root ${BL.b64encode(note.root).slice(0, 12)}\u2026) is ` +
        `signed by ${data.signer.name} (Ed25519, ${by})` +
        (verified.length ? `; ${verified.length} events hash (SHA-256) to leaves of its tree (RFC 9162 inclusion proofs)` : "") +
        attributed +
        complete + (shown.length !== verified.length ? `; ${shown.length} of them concern ${data.subject}` : "") +
        (earlier ? `; ${earlier} earlier publication${earlier > 1 ? "s" : ""} extend${earlier > 1 ? "" : "s"} into it` : "") +
        `; ${fresh.said}.`, fresh.stale);
    } catch (error) {
      refuse(error);
    }
  }

  /* Nothing is shown of a page that failed, whenever it fails (a chunk of snapshots may
   * fail after the rest verified). */
  function refuse(error) {
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
    for (const id of ["day-out", "now-line", "now-links", "now-obs", "headline"]) {
      const node = $(id);
      if (node) node.replaceChildren(el(node.tagName === "UL" ? "li" : "span",
                                        "Not shown: this page did not verify.", "bad"));
    }
    badge(false, `NOT VERIFIED: ${why}. Nothing on this page is proven; the history is not shown.`);
    document.querySelectorAll(".archive-result").forEach((n) => { n.textContent = "not verified"; n.className = "archive-result bad"; });
  }

  /* The platform's status snapshots, by chunk (website.slider): the one holding "now" is
   * on the page, the others are loaded when the slider reaches their days; each is shown
   * only once its digest is the one the publisher signed. */
  const chunks = new Map();
  function chunkFor(meta, ms) {
    let found = -1;
    meta.forEach((c, i) => { if (c && c.from <= ms) found = i; });
    return found;
  }
  async function chunkNow(data, note) {
    const meta = data.snapshots;
    const held = data.snapshots_now;
    if (!Array.isArray(meta) || !meta.length || !held || typeof held !== "object" ||
        Object.keys(held).sort().join() !== "chunk,snapshots") {
      throw new BL.Failure("the page carries no status snapshots");
    }
    const want = Math.max(0, chunkFor(meta, noteMs(note)));
    if (held.chunk !== want) throw new BL.Failure("the page's snapshots are not those of now");
    chunks.set(want, Promise.resolve(
      await BL.checkChunk(meta[want], held.snapshots, `the status snapshots ${want + 1}`)));
  }
  function loadChunk(data, i) {
    if (!chunks.has(i)) {
      chunks.set(i, new Promise((resolve, reject) => {
        const key = `${data.subject}/${i + 1}`;
        const script = document.createElement("script");
        script.src = `../snapshots/${data.subject}/${i + 1}.js`;
        script.onload = () => {
          const got = (globalThis.BL_CHUNKS || {})[key];
          BL.checkChunk(data.snapshots[i], got, `the status snapshots ${i + 1}`).then(resolve, reject);
        };
        script.onerror = () => reject(new BL.Failure(`the status snapshots ${i + 1} (${script.src}) cannot be loaded`));
        document.body.append(script);
      }));
    }
    return chunks.get(i);
  }

  /* The day slider: the last snapshot at or before the end of the chosen day (UTC). */
  let sliding = false;
  function slider(data, note) {
    const meta = data.snapshots;
    if (sliding) return;
    sliding = true;
    const range = $("day-range"); const date = $("day-date");
    const first = Math.floor(meta[0].from / DAY);
    const last = Math.max(Math.floor(noteMs(note) / DAY), Math.floor(meta[meta.length - 1].to / DAY));
    let asked = null;
    range.min = first; range.max = last;
    const iso = (day) => new Date(day * DAY).toISOString().slice(0, 10);
    date.min = iso(first); date.max = iso(last);
    function show(day) {
      range.value = day; date.value = iso(day);
      range.setAttribute("aria-valuetext", iso(day));
      const end = (day + 1) * DAY - 1;
      const i = chunkFor(meta, end);
      asked = day;
      if (i < 0) { draw(day, null); return; }
      loadChunk(data, i).then((snaps) => {
        if (asked !== day) return; // the reader has moved on
        let snap = null;
        for (const s of snaps) if (s.ms <= end) snap = s;
        draw(day, snap);
      }, refuse);
    }
    function draw(day, snap) {
      const out = $("day-out"); out.replaceChildren();
      const p = el("p"); p.append(`On ${iso(day)}: `);
      if (!snap) { p.append("not registered yet."); out.append(p); return; }
      const st = snap.status;
      const state = el("span", st.state, `state state-${st.state}`); state.id = "day-state";
      p.append(state, st.blocked_targets.length ? `, ${st.blocked_targets.length} targets blocked:` : ".");
      out.append(p);
      if (st.blocked_targets.length) {
        const ul = el("ul", null, "targets"); ul.id = "day-blocked";
        for (const t of st.blocked_targets) ul.append(el("li", t, "mono"));
        out.append(ul);
      }
      const more = el("ul");
      for (const o of st.orders) more.append(el("li", `order ${o.ref} by ${o.authority}: ${o.state}`));
      for (const r of st.normalizations) {
        more.append(el("li", `request ${r.ref}: ${r.state}` + Object.entries(r.conditions).map(([c, s]) => `; ${c} ${s}`).join("")));
      }
      for (const [t, o] of Object.entries(st.observed)) {
        more.append(el("li", `${t} observed ${o.accessible ? "reachable" : "unreachable"}${o.network ? ` on ${o.network}` : ""} (${o.at})` +
          (st.divergent.includes(t) ? ` \u2014 differs from the orders${
            st.divergence && st.divergence[t] ? ` (${st.divergence[t]})` : ""}` : "")));
      }
      for (const pen of st.penalties || []) {
        more.append(el("li", `penalty by ${pen.authority}: ${pen.amount} ${pen.currency} ` +
          `${pen.per === "once" ? "once" : `per ${pen.per}`}${pen.cap ? ` up to ${pen.cap}` : ""}: ${pen.state}`));
      }
      if (more.children.length) out.append(more);
      out.append(el("p", `Status as of the change at ${snap.at}.`, "meta"));
    }
    range.addEventListener("input", () => show(Number(range.value)));
    date.addEventListener("change", () => {
      const ms = Date.parse(`${date.value}T00:00:00Z`);
      if (!Number.isNaN(ms)) show(Math.min(last, Math.max(first, Math.floor(ms / DAY))));
    });
    range.closest(".day-controls").hidden = false;
    show(last);
  }

  /* A platform's "now": the last signed snapshot at or before the checkpoint's signed time
   * (never a date the host could edit), with its orders, requests and observations. */
  function platformNow(data, note) {
    const snaps = data.snapshots_now.snapshots; // verified by chunkNow
    const at = noteMs(note);
    let now = null;
    for (const s of snaps) if (s.ms <= at) now = s;
    if (!now) throw new BL.Failure("no signed status at the checkpoint's time");
    const st = now.status;
    const line = $("now-line");
    if (line) {
      const state = el("span", st.state, `state state-${st.state}`); state.id = "now-state";
      line.replaceChildren(`Now (${asOf(note)}): `, state,
        st.blocked_targets.length ? `, ${st.blocked_targets.length} targets blocked.` : ".");
    }
    const link = (kind, ref) => {
      if (!SLUG.test(ref)) return el("span", ref, "mono");
      const a = el("a", ref); a.href = `../${kind}/${ref}.html`; return a;
    };
    const links = $("now-links");
    if (links) {
      links.replaceChildren();
      for (const o of st.orders) {
        const li = el("li"); li.append("Order ", link("order", o.ref), ` by ${o.authority}: `,
                                       el("span", o.state, `state state-${o.state}`));
        links.append(li);
      }
      for (const r of st.normalizations) {
        const li = el("li"); li.append("Request ", link("request", r.ref), ": ",
                                       el("span", r.state, `state state-${r.state}`));
        links.append(li);
      }
      if (!links.children.length) links.append(el("li", "None."));
    }
    const obs = $("now-obs");
    if (obs) {
      const entries = Object.entries(st.observed);
      if (!entries.length) {
        obs.replaceChildren(el("p", "No observation of access is recorded."));
      } else {
        const ul = el("ul");
        for (const [t, o] of entries) {
          const li = el("li"); li.append(el("span", t, "mono"),
            `: ${o.accessible ? "reachable" : "unreachable"}${o.network ? ` on ${o.network}` : ""}, ${o.at}`);
          if (st.divergent.includes(t)) {
            li.append(" \u2014 ", el("strong", "differs from the orders", "divergent"));
          }
          ul.append(li);
        }
        obs.replaceChildren(ul);
      }
    }
  }

  /* An order's or a request's headline, from its signed statement. */
  function headline(h, note) {
    const out = $("headline");
    if (!out) return;
    const p = el("p", null, "answer");
    p.append(`Now (${asOf(note)}): `, el("span", h.state || "unknown", h.state ? `state state-${h.state}` : "state"),
             h.authority !== null && h.authority !== undefined ? `, by ${h.authority}.` : ".");
    out.replaceChildren(p);
    if (h.conditions && typeof h.conditions === "object" && Object.keys(h.conditions).length) {
      const ul = el("ul", null, "conditions");
      for (const [c, s] of Object.entries(h.conditions)) {
        const li = el("li"); li.append(el("span", c, "mono"), `: ${s}`); ul.append(li);
      }
      out.append(ul);
    }
    const platforms = el("p", "Platforms: ");
    const refs = Array.isArray(h.platforms) ? h.platforms : [];
    refs.forEach((ref, i) => {
      if (i) platforms.append(", ");
      if (SLUG.test(ref)) {
        const a = el("a", ref); a.href = `../platform/${ref}.html`; platforms.append(a);
      } else platforms.append(el("span", ref, "mono"));
    });
    platforms.append(refs.length ? "." : "none published.");
    out.append(platforms);
  }

  /* The home page's rows, from the signed list (the server's table is for readers
   * without JavaScript). */
  function homeRows(rows, root) {
    const body = document.querySelector("table.platforms tbody");
    if (!body || !Array.isArray(rows)) return;
    body.replaceChildren();
    for (const r of rows) {
      if (!SLUG.test(r.ref)) throw new BL.Failure("a platform's reference is not a slug");
      const tr = el("tr");
      Object.assign(tr.dataset, { state: r.state, authorities: r.authorities.join("\n"),
        jurisdictions: r.jurisdictions.join(" "), search: `${r.ref} ${r.name}`.toLowerCase() });
      const th = el("th"); th.scope = "row";
      const a = el("a", r.name); a.href = `${root}platform/${r.ref}.html`;
      th.append(a, " ", el("span", r.ref, "meta mono"));
      const cell = (label, ...content) => {
        const td = el("td"); td.dataset.label = label; td.append(...content); return td;
      };
      tr.append(th,
        cell("State now", el("span", r.state, `state state-${r.state}`),
             r.blocked ? ` (${r.blocked} targets)` : ""),
        cell("Blocked for", r.since || "\u2014"),
        cell("Authorities", r.authorities.join(", ") || "\u2014"),
        cell("Jurisdictions", r.jurisdictions.join(", ") || "\u2014"));
      body.append(tr);
    }
    document.querySelector("table.platforms").hidden = false;
    filters();
  }

  let filtering = null;
  function filters() {
    const inputs = ["f-search", "f-state", "f-authority", "f-jurisdiction"].map($);
    if (inputs.some((i) => !i)) return;
    const [search, state, authority, jurisdiction] = inputs;
    function apply() {
      const rows = Array.from(document.querySelectorAll("table.platforms tbody tr"));
      const q = search.value.trim().toLowerCase();
      let shown = 0;
      for (const r of rows) {
        const ok = (!q || r.dataset.search.includes(q)) &&
          (!state.value || r.dataset.state === state.value) &&
          (!authority.value || r.dataset.authorities.split("\n").includes(authority.value)) &&
          (!jurisdiction.value || r.dataset.jurisdictions.split(" ").includes(jurisdiction.value));
        r.hidden = !ok; shown += ok;
      }
      $("f-count").textContent = `${shown} of ${rows.length} platforms`;
    }
    if (!filtering) for (const i of inputs) i.addEventListener("input", apply);
    filtering = apply;
    apply();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("verify-button").addEventListener("click", verify);
    filters();
    verify();
  });
})();
