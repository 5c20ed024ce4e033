/* The page's behaviour: verify on load (and on "Verify") with verify.js, render the history
 * only from the verified bytes, then what views.js shows (slider, now, headline, home
 * rows) and whether the publication is the latest (fresh.js). Every text goes in with
 * textContent; links only for http(s) URLs. */
"use strict";
(() => {
  const { $, el, SLUG, noteMs, badge, refuse, freshness, chunkNow, slider, platformNow,
          headline, homeRows, filters, checkParts, failure } = BLUI;
  const TOP = {
    home: ["page", "checkpoint", "signer", "events", "rows", "rows_signature", "archive",
           "part", "parts", "jurisdiction", "search", "filters", "part_digests"],
    platform: ["page", "checkpoint", "signer", "subject", "name", "events", "index",
               "snapshots", "snapshots_now", "snapshots_signature", "operators",
               "jurisdiction"],
    order: ["page", "checkpoint", "signer", "subject", "events", "index", "headline",
            "headline_signature", "operators", "part"],
    request: ["page", "checkpoint", "signer", "subject", "events", "index", "headline",
              "headline_signature", "operators", "part"],
    history: ["page", "checkpoint", "signer", "subject", "events", "index", "operators"],
    downloads: ["page", "checkpoint", "signer", "events"],
  };

  /* Fields a page of an earlier version of `blockledger publish` did not carry (home:
   * "jurisdiction" from 11927e1, "search" from 2f33b97, "filters" from the filters
   * across parts, "part_digests" from statements of version 2; platform:
   * "jurisdiction"). Such a page verifies as it was signed (its statements without them:
   * a field taken off a newer page breaks its signature) and reads as out of date, amber,
   * since scripts newer than it serve it: an earlier publication's page, not a tampered
   * one. So does a statement of version 1 (bound to the checkpoint's root only: verify.js,
   * checkStatement), which only an earlier version signed. */
  const LATER = { home: ["jurisdiction", "search", "filters", "part_digests"],
                  platform: ["jurisdiction"] };

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
    const part = data.part;
    if (data.page === "order" || data.page === "request") {
      // Of a long platform, an order's or request's own events come in parts
      // (order/<ref>/<n>.html after order/<ref>.html), as many as its signed headline says.
      if (!part || typeof part !== "object" || Object.keys(part).sort().join() !== "part,parts" ||
          !Number.isSafeInteger(part.part) || part.part < 1 || !data.headline ||
          part.parts !== data.headline.parts || part.part > part.parts) {
        throw new BL.Failure("the page's part of its events is not one its headline counts");
      }
      if (part.part > 1) {
        if (file !== `${part.part}.html` || dir !== data.subject || above !== data.page) {
          throw new BL.Failure(`this page is part ${part.part} of ${data.page} ${data.subject}, ` +
            `but it was opened as ${above}/${dir}/${file} (a page copied over another's)`);
        }
        return;
      }
    }
    if (file !== `${data.subject}.html` || dir !== data.page) {
      throw new BL.Failure(`this page proves ${data.page} ${data.subject}, but it was opened ` +
        `as ${dir}/${file} (a page copied over another's)`);
    }
  }

  /* An order's or a request's own run of the checkpoint's index ("order/REF"), which
   * its page must prove from index version 2 on (website.pages.subject): its name if the
   * page carries it, as the part its data says; null for a version 1 checkpoint (whose
   * page proves its platform's run, or says, signed, where that is proven). So no host
   * can swap the run for a platform's, nor another subject's run in. */
  function subjectRun(data, note) {
    if (data.page !== "order" && data.page !== "request") return null;
    const name = `${data.page}/${data.subject}`;
    if (!note.index || note.index.version < 2) {
      if (data.index && data.index.platform === name) {
        throw new BL.Failure(`the checkpoint's index (version 1) has no run of ${name}`);
      }
      if (data.index && !(data.headline && Array.isArray(data.headline.platforms) &&
                          data.headline.platforms.includes(data.index.platform))) {
        throw new BL.Failure(`the page proves the events of ${data.index.platform}, ` +
                             `which is none of ${data.subject}'s platforms`);
      }
      return null;
    }
    if (!data.index || data.index.platform !== name) {
      throw new BL.Failure(`the page does not prove ${data.subject}'s own events complete ` +
        `(the checkpoint's index has their run, ${name}; the page proves ` +
        `${data.index ? data.index.platform : "none"})`);
    }
    if (data.index.part !== data.part.part || data.index.parts !== data.part.parts) {
      throw new BL.Failure(`the page is part ${data.part.part} of ${data.part.parts} of ` +
        `${data.subject}'s events but proves part ${data.index.part} of ${data.index.parts}`);
    }
    return name;
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

  function readData() {
    let data;
    try { data = JSON.parse($("bl-data").textContent); } catch (_) {
      throw new BL.Failure("the page's data is not JSON");
    }
    const keys = data && typeof data === "object" && Object.prototype.hasOwnProperty.call(TOP, data.page)
      ? TOP[data.page] : null;
    const older = keys ? (LATER[data.page] || []).filter((k) => !Object.prototype.hasOwnProperty.call(data, k)) : [];
    if (!keys || Object.keys(data).sort().join() !== keys.filter((k) => !older.includes(k)).sort().join()) {
      throw new BL.Failure("the page's data has other fields than expected");
    }
    Object.defineProperty(data, "older", { value: older, enumerable: false });
    if (!Array.isArray(data.events)) throw new BL.Failure("the page's events are not a list");
    return data;
  }


  /* A statement as the page's publisher signed it: without the fields its version did
   * not have (LATER). */
  function carried(data, statement) {
    for (const k of data.older) delete statement[k];
    return statement;
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
      if (failure()) throw failure(); // red until reloaded (ui.js, refuse)
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
      const own = subjectRun(data, note);
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
        complete = own
          ? `; none of ${data.subject}'s own events ${offset + 1}\u2013${offset + proven.length} ` +
            `of ${count} is left out and none is another's (its run ${own} of the index)`
          : part.parts === 1
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
      // A statement of version 1 is an earlier publication's (amber, below).
      let rootOnly = false;
      if (data.page === "platform") {
        rootOnly = await BL.checkStatement("snapshots", carried(data, { platform: data.subject, name: data.name,
                                               chunks: data.snapshots,
                                               jurisdiction: data.jurisdiction }),
                                data.snapshots_signature, note, data.signer);
        await chunkNow(data, note);
        complete += "; the name and day-by-day status are the ones the publisher signed";
      }
      if (data.page === "order" || data.page === "request") {
        const h = data.headline;
        if (!h || typeof h !== "object" || h.kind !== data.page || h.subject !== data.subject) {
          throw new BL.Failure(`the headline is not about ${data.page} ${data.subject}`);
        }
        rootOnly = await BL.checkStatement("subject", h, data.headline_signature, note, data.signer);
        complete += "; the state, authority and platforms shown are the ones the publisher signed";
      }
      if (data.page === "home") {
        rootOnly = await BL.checkStatement("home", carried(data, { rows: data.rows, part: data.part, parts: data.parts,
                                          jurisdiction: data.jurisdiction, search: data.search,
                                          filters: data.filters, part_digests: data.part_digests }),
                                data.rows_signature, note, data.signer);
        await checkParts(data);
        complete += "; the list of platforms is the one the publisher signed";
      }
      // A platform page shows its platform's events; an order's or request's page, those
      // whose verified bytes name it. The heading says whose they are, from those bytes.
      // The events of a subject's own run are its own, amendments included (proven above).
      const shown = verified.filter(([, ev]) => data.page === "platform" || own ||
                                    data.page === "history" || ev.subject === data.subject);
      const creating = { platform: "platform-registered", order: "blocked",
                         request: "normalization-requested" }[data.page];
      if (creating && !(data.part && data.part.part > 1)) {
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
      if (data.page === "order" || data.page === "request") {
        headline(data.headline, note, data.part.part > 1 ? "../../" : "../");
      }
      if (data.page === "home") {
        homeRows(data.rows, data.part === 1 ? "" : "../", data.jurisdiction, data, note);
      }
      document.querySelectorAll("[data-cp]").forEach((node) => {
        // What the reader compares is what was checked: the key the signature verified
        // with, not what the HTML said.
        const shown = new Map([["origin", note.origin], ["size", note.treeSize],
                               ["root", BL.b64encode(note.root)], ["time", note.time],
                               ["signer", data.signer.name], ["key_id", data.signer.key_id],
                               ["public_key", data.signer.public_key]]);
        node.textContent = shown.has(node.dataset.cp) ? shown.get(node.dataset.cp) : "";
      });
      const fresh = await freshness(data, note);
      const why = [...(data.older.length ? [`it has no ${data.older.join(" or ")}`] : []),
                   ...(rootOnly ? ["its signed statements are bound to the checkpoint's root only, not its time"] : [])];
      if (why.length && !fresh.stale) {
        fresh.stale = "this page was written by an earlier version of blockledger publish than " +
          `the site's scripts (${why.join("; ")}): a page of an earlier publication`;
      }
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

  document.addEventListener("DOMContentLoaded", () => {
    $("verify-button").addEventListener("click", verify);
    filters();
    verify();
  });
})();
