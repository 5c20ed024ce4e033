/* What a verified page shows beyond its history: the platform's status now and on any
 * day (the slider, over the publisher's signed snapshots, by chunk), an order's or a
 * request's headline (the home page's rows and filters: home.js). Called by page.js once
 * the page verified; every text goes in with textContent. */
"use strict";
(() => {
  const { $, el, SLUG, DAY, has, noteMs, asOf, refuse } = BLUI;

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
          const got = has(globalThis.BL_CHUNKS, key) ? globalThis.BL_CHUNKS[key] : undefined;
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
      const p = el("p"); p.append(`On ${iso(day)}${chosen ? ` in ${chosen}` : ""}: `);
      if (!snap) { p.append("not registered yet."); out.append(p); return; }
      const st = answerIn(snap.status, chosen);
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
            has(st.divergence, t) ? ` (${st.divergence[t]})` : ""}` : "")));
      }
      for (const pen of st.penalties || []) {
        more.append(el("li", `penalty by ${pen.authority}: ${pen.amount} ${pen.currency} ` +
          `${pen.per === "once" ? "once" : `per ${pen.per}`}${pen.cap ? ` up to ${pen.cap}` : ""}: ${pen.state}`));
      }
      if (more.children.length) out.append(more);
      // When the answer shown last changed, from the signed snapshot (website.snapshots):
      // in the jurisdiction chosen, not the last change anywhere; an earlier
      // publication's snapshots say only the last change of any.
      const since = !chosen ? snap.changed
        : snap.changed_in && Object.prototype.hasOwnProperty.call(snap.changed_in, chosen)
          ? snap.changed_in[chosen] : undefined;
      out.append(el("p", since === undefined ? `Status as of the change at ${snap.at}.`
        : `Status as of its last change${chosen ? ` in ${chosen}` : ""}, at ${since}.`, "meta"));
    }
    range.addEventListener("input", () => show(Number(range.value)));
    date.addEventListener("change", () => {
      const ms = Date.parse(`${date.value}T00:00:00Z`);
      if (!Number.isNaN(ms)) show(Math.min(last, Math.max(first, Math.floor(ms / DAY))));
    });
    range.closest(".day-controls").hidden = false;
    redraws.push(() => show(asked === null ? last : asked));
    show(last);
  }

  /* Which jurisdiction's answer the page shows: "" for the whole (every order and
   * observation), else a code the signed snapshots answer in. Each snapshot carries the
   * answer in each of the platform's jurisdictions, folded by the ledger (null: the same
   * as the whole); the page only picks one. */
  const CODE = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/;
  let chosen = "";
  const redraws = [];
  function answerIn(status, code) {
    if (!code) return status;
    const per = status.jurisdictions;
    if (!per || typeof per !== "object" || !Object.prototype.hasOwnProperty.call(per, code)) {
      throw new BL.Failure(`a status snapshot has no answer in ${code}`);
    }
    return per[code] === null ? status : per[code];
  }
  function codesOf(status, data) {
    const per = status.jurisdictions;
    // A page of an earlier publication (page.js, LATER) signed snapshots without answers
    // per jurisdiction: it shows the whole only.
    if (per === undefined && data.older.includes("jurisdiction")) return [];
    if (!per || typeof per !== "object" || Array.isArray(per)) {
      throw new BL.Failure("a status snapshot has no answers per jurisdiction");
    }
    const codes = Object.keys(per).sort();
    if (!codes.every((c) => CODE.test(c))) {
      throw new BL.Failure("a status snapshot names a jurisdiction that is not an ISO 3166 code");
    }
    return codes;
  }
  let choosing = false;
  function chooser(data, note, now) {
    const codes = codesOf(now.status, data);
    const select = $("jurisdiction");
    if (!select) return codes;
    const asked = location.hash.startsWith("#in-") ? location.hash.slice(4) : null;
    if (!choosing) {
      chosen = codes.includes(asked) ? asked : codes.includes(data.jurisdiction) ? data.jurisdiction : "";
      select.addEventListener("change", () => {
        chosen = codes.includes(select.value) ? select.value : "";
        try { platformNow(data, note); for (const f of redraws) f(); } catch (error) { refuse(error); }
      });
      choosing = true;
    }
    const all = el("option", "every jurisdiction (all orders)"); all.value = "";
    select.replaceChildren(all, ...codes.map((c) => el("option", c)));
    select.value = chosen;
    select.closest(".where").hidden = codes.length === 0;
    const each = $("now-each");
    if (each) {
      each.replaceChildren();
      for (const c of codes) {
        const st = answerIn(now.status, c);
        const li = el("li"); li.dataset.jurisdiction = c;
        li.append(el("strong", c), ": ", el("span", st.state, `state state-${st.state}`),
          st.blocked_targets.length ? `, ${st.blocked_targets.length} targets blocked` : "",
          st.orders.length ? ` (${st.orders.map((o) => o.authority).filter((a, i, l) => l.indexOf(a) === i).join(", ")})` : "");
        each.append(li);
      }
      each.closest("section").hidden = codes.length === 0;
    }
    return codes;
  }

  /* A platform's "now": the last signed snapshot at or before the checkpoint's signed time
   * (never a date the host could edit), with its orders, requests and observations. */
  function platformNow(data, note) {
    const snaps = data.snapshots_now.snapshots; // verified by chunkNow
    const at = noteMs(note);
    let now = null;
    for (const s of snaps) if (s.ms <= at) now = s;
    if (!now) throw new BL.Failure("no signed status at the checkpoint's time");
    const codes = chooser(data, note, now);
    const st = answerIn(now.status, chosen);
    const line = $("now-line");
    if (line) {
      const state = el("span", st.state, `state state-${st.state}`); state.id = "now-state";
      line.replaceChildren(`Now${chosen ? ` in ${chosen}` : codes.length ? " in every jurisdiction" : ""} (${asOf(note)}): `, state,
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
  function headline(h, note, root) {
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
        const a = el("a", ref); a.href = `${root}platform/${ref}.html`; platforms.append(a);
      } else platforms.append(el("span", ref, "mono"));
    });
    platforms.append(refs.length ? "." : "none published.");
    out.append(platforms);
  }

  Object.assign(BLUI, { chunkNow, slider, platformNow, headline, CODE });
})();
