/* The home page: its rows and filters, from the signed list (the server's table is for
 * readers without JavaScript). A list in parts (website.home) searches every part from
 * the signed index of every platform (home/search.js), and its filters act on every part:
 * the signed index of the filters' values (home/filters.js) names the parts holding a
 * row with each value, and the rows of those parts are shown from their files
 * (home/N.js), each checked against the SHA-256 of that part's rows that this page's own
 * statement signs (part_digests), never from anything else. No value of the data is used
 * as an object's key: the filters' index is lists of [value, parts], read into Maps.
 * Called by page.js once the page verified; every text goes in with textContent. */
"use strict";
(() => {
  const { $, el, SLUG, CODE, has, refuse } = BLUI;

  /* One row per platform and jurisdiction (null: the whole answer, from every order,
   * given where some order names no jurisdiction: labelled so, since the fold answers per
   * jurisdiction, never for the orders that name none alone). */
  const ALL_ORDERS = "all orders (some name no jurisdiction)";
  const FILTERS = ["state", "authority", "jurisdiction"];

  /* An earlier publication's rows (page.js, LATER) had one row per platform, with the
   * list of its jurisdictions; shown as they were signed. */
  function checkRows(rows, older) {
    if (!Array.isArray(rows)) throw new BL.Failure("the list's rows are not a list");
    for (const r of rows) {
      if (!r || typeof r !== "object" || typeof r.ref !== "string" || !SLUG.test(r.ref)) {
        throw new BL.Failure("a platform's reference is not a slug");
      }
      if (older) {
        if (!Array.isArray(r.jurisdictions) || !r.jurisdictions.every((c) => typeof c === "string" && CODE.test(c))) {
          throw new BL.Failure("a row's jurisdictions are not ISO 3166 codes");
        }
      } else if (r.jurisdiction !== null && !CODE.test(r.jurisdiction)) {
        throw new BL.Failure("a row's jurisdiction is not an ISO 3166 code");
      }
      if (!Array.isArray(r.authorities) || !r.authorities.every((a) => typeof a === "string")) {
        throw new BL.Failure(`the authorities of ${r.ref}'s row are not a list of names`);
      }
    }
    return rows;
  }

  function rowNode(r, root, older) {
    const tr = el("tr");
    Object.assign(tr.dataset, { ref: r.ref, state: r.state, authorities: r.authorities.join("\n"),
      jurisdiction: older ? (r.jurisdictions.join("\n") || "-") : r.jurisdiction || "-", search: `${r.ref} ${r.name}`.toLowerCase() });
    const th = el("th"); th.scope = "row";
    const a = el("a", r.name);
    a.href = `${root}platform/${r.ref}.html${r.jurisdiction ? `#in-${r.jurisdiction}` : ""}`;
    th.append(a, " ", el("span", r.ref, "meta mono"));
    const cell = (label, ...content) => {
      const td = el("td"); td.dataset.label = label; td.append(...content); return td;
    };
    tr.append(th,
      cell("Jurisdiction", older ? r.jurisdictions.join(", ") || "none named" : (r.jurisdiction || ALL_ORDERS) + (r.regional ? " (regional orders)" : "")),
      cell("State now", el("span", r.state, `state state-${r.state}`),
           r.blocked ? ` (${r.blocked} targets)` : ""),
      cell("Blocked for", r.since || "\u2014"),
      cell("Authorities", r.authorities.join(", ") || "\u2014"));
    return tr;
  }

  let home = null;
  function show(rows, across) {
    document.querySelector("table.platforms tbody")
      .replaceChildren(...rows.map((r) => rowNode(r, home.root, home.older)));
    home.across = across;
  }

  /* Every filter's choices come from signed values, never from the host's HTML (an
   * option whose value the host swapped would show other rows than its label says): the
   * part's rows, then, in parts, the signed index of every part's values. The reader's
   * choice is kept; the jurisdiction's starts on the site's own. */
  function choices(states, authorities, codes, unattributed, start) {
    const fill = (id, values, labels = new Map()) => {
      const node = $(id);
      if (!node) return;
      const was = start === undefined ? node.value : id === "f-jurisdiction" ? start : "";
      const any = el("option", "any"); any.value = "";
      node.replaceChildren(any, ...values.map((v) => { const o = el("option", labels.get(v) || v); o.value = v; return o; }));
      node.value = values.includes(was) ? was : "";
    };
    fill("f-state", states);
    fill("f-authority", authorities);
    fill("f-jurisdiction", [...codes, ...(unattributed ? ["-"] : [])], new Map([["-", ALL_ORDERS]]));
  }

  /* The SHA-256 of every part's rows, as this part's statement signs them (none for a
   * list of one part; none on an earlier version's page, whose filters then act on its
   * own part only): this part's own rows must have theirs. */
  async function checkParts(data) {
    const digests = data.part_digests;
    if (digests === undefined) return;
    const ok = data.parts === 1 ? digests === null
      : Array.isArray(digests) && digests.length === data.parts &&
        digests.every((d) => typeof d === "string" && /^[0-9a-f]{64}$/.test(d));
    if (!ok) throw new BL.Failure("the digests of the list's parts are malformed");
    if (digests) await BL.checkDigest({ digest: digests[data.part - 1] }, data.rows, "this part's rows");
  }

  function homeRows(rows, root, jurisdiction, data, note) {
    const body = document.querySelector("table.platforms tbody");
    if (!body || !Array.isArray(rows)) return;
    const older = data.older.includes("jurisdiction");
    home = { root, data, note, rows: checkRows(rows, older), older, across: false,
             everywhere: Boolean(data.filters && data.part_digests) };
    show(rows, false);
    const codes = [...new Set(rows.flatMap((r) => older ? r.jurisdictions : [r.jurisdiction]).filter(Boolean))].sort();
    choices([...new Set(rows.map((r) => r.state))].sort(),
            [...new Set(rows.flatMap((r) => r.authorities))].sort(), codes,
            rows.some((r) => older ? !r.jurisdictions.length : r.jurisdiction === null),
            jurisdiction && codes.includes(jurisdiction) ? jurisdiction : "");
    document.querySelector("table.platforms").hidden = false;
    filters();
    if (home.everywhere) {
      loadFilters().then((index) => {
        const codes = [...index.jurisdiction.keys()].filter((c) => c !== "-");
        choices([...index.state.keys()], [...index.authority.keys()], codes,
                index.jurisdiction.has("-"));
        filters();
      }).catch(refuse);
    }
  }

  /* A data-only script of the site, loaded once (its promise kept: a load that failed
   * stays failed, and the page red). */
  const loaded = new Map();
  function load(file, check) {
    if (!loaded.has(file)) {
      loaded.set(file, new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = `${home.root}${file}`;
        script.onload = () => Promise.resolve().then(check).then(resolve, reject);
        script.onerror = () => reject(new BL.Failure(`${file} cannot be loaded`));
        document.body.append(script);
      }));
    }
    return loaded.get(file);
  }
  const loadSearch = () => load("home/search.js", () => BL.checkSearch(home.data.search, globalThis.BL_SEARCH));

  /* The filters' index, against the SHA-256 the part's signed statement gives: for each
   * filter, [value, parts] pairs (the parts holding a row with the value, rising), each
   * value once; read into a Map per filter, in the signed order. */
  const loadFilters = () => load("home/filters.js", async () => {
    const index = globalThis.BL_FILTERS;
    await BL.checkDigest(home.data.filters, index, "the filters' index");
    const parts = home.data.parts;
    const pair = (p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string" &&
      Array.isArray(p[1]) && p[1].every((n, i) => Number.isSafeInteger(n) && n >= 1 &&
                                        n <= parts && (i === 0 || n > p[1][i - 1]));
    if (!index || typeof index !== "object" || Array.isArray(index) ||
        Object.keys(index).sort().join() !== "authority,jurisdiction,state" ||
        !FILTERS.every((k) => Array.isArray(index[k]) && index[k].every(pair))) {
      throw new BL.Failure("the filters' index is malformed");
    }
    const read = {};
    for (const k of FILTERS) {
      read[k] = new Map(index[k]);
      if (read[k].size !== index[k].length) throw new BL.Failure("the filters' index repeats a value");
    }
    if (![...read.jurisdiction.keys()].every((c) => c === "-" || CODE.test(c))) {
      throw new BL.Failure("the filters' index names a jurisdiction that is not an ISO 3166 code");
    }
    return read;
  });

  /* Part n's rows (home/N.js), against the SHA-256 of part n's rows that this page's own
   * statement signs (bound to this checkpoint): another part's rows, or another
   * publication's, are not them. */
  function loadPart(n) {
    const file = `home/${n}.js`;
    return load(file, async () => {
      const got = has(globalThis.BL_HOME_PARTS, n) ? globalThis.BL_HOME_PARTS[n] : undefined;
      if (!Array.isArray(got)) throw new BL.Failure(`part ${n} of the list (${file}) is not a list of rows`);
      await BL.checkDigest({ digest: home.data.part_digests[n - 1] }, got, `part ${n} of the list (${file})`);
      return checkRows(got, false);
    });
  }

  /* The rows of every part that may match the filters chosen (the parts the index names
   * for each), in the list's order; this part's own from the page. */
  async function everyPart(chosen) {
    const index = await loadFilters();
    let parts = null;
    for (const k of FILTERS) {
      if (!chosen[k]) continue;
      const holding = index[k].get(chosen[k]) || [];
      parts = parts ? parts.filter((n) => holding.includes(n)) : holding;
    }
    const rows = await Promise.all(parts.map((n) => n === home.data.part ? home.rows : loadPart(n)));
    return rows.flat();
  }

  /* A home page in parts: a platform of another part found by the search is listed with
   * a link to its own page (which proves itself) and to its part. */
  function elsewhere(q) {
    const out = $("f-elsewhere");
    if (!out || !home || !home.data.search) return;
    if (!q || home.across) { out.hidden = true; out.replaceChildren(); return; }
    loadSearch().then((index) => {
      if ($("f-search").value.trim().toLowerCase() !== q || home.across) return; // the reader typed on
      const found = index.filter((e) => e.part !== home.data.part &&
                                 `${e.ref} ${e.name}`.toLowerCase().includes(q));
      const list = el("ul");
      for (const e of found.slice(0, 50)) {
        if (!SLUG.test(e.ref) || !Number.isSafeInteger(e.part) || e.part < 1 ||
            e.part > home.data.parts) throw new BL.Failure("an entry of the search index is malformed");
        const li = el("li"); const a = el("a", e.name); a.href = `${home.root}platform/${e.ref}.html`;
        const part = el("a", `part ${e.part}`);
        part.href = e.part === 1 ? `${home.root}index.html` : `${home.root}home/${e.part}.html`;
        li.append(a, " ", el("span", e.ref, "meta mono"), " (", part, ")");
        list.append(li);
      }
      const head = el("p", found.length ? `In other parts of the list: ${found.length} platform${found.length > 1 ? "s" : ""}` +
        (found.length > 50 ? " (the first 50)" : "") + ":" : "In other parts of the list: none.");
      out.replaceChildren(head, ...(found.length ? [list] : []));
      out.hidden = false;
    }).catch(refuse);
  }

  let filtering = null;
  let asked = 0;
  function filters() {
    const inputs = ["f-search", "f-state", "f-authority", "f-jurisdiction"].map($);
    if (inputs.some((i) => !i)) return;
    const [search, state, authority, jurisdiction] = inputs;
    function hide() {
      const rows = Array.from(document.querySelectorAll("table.platforms tbody tr"));
      const q = search.value.trim().toLowerCase();
      const refs = new Set(); const seen = new Set();
      let shown = 0;
      for (const r of rows) {
        refs.add(r.dataset.ref);
        const ok = (!q || r.dataset.search.includes(q)) &&
          (!state.value || r.dataset.state === state.value) &&
          (!authority.value || r.dataset.authorities.split("\n").includes(authority.value)) &&
          (!jurisdiction.value || r.dataset.jurisdiction.split("\n").includes(jurisdiction.value));
        r.hidden = !ok; shown += ok;
        if (ok) seen.add(r.dataset.ref);
      }
      const across = home && home.across;
      $("f-count").textContent = `${seen.size} of ${across ? home.data.search.count : refs.size} platforms` +
        (across ? ", from every part of the list" : "") +
        (!across && rows.length !== refs.size ? ` (${shown} of ${rows.length} rows)` : "") +
        (jurisdiction.value ? ` (jurisdiction ${jurisdiction.value === "-" ? ALL_ORDERS : jurisdiction.value})` : "");
    }
    function apply() {
      if (BLUI.failure()) return; // a page that failed shows no rows again
      const chosen = { state: state.value, authority: authority.value, jurisdiction: jurisdiction.value };
      const ticket = ++asked;
      if (!home || !home.everywhere || !FILTERS.some((k) => chosen[k])) {
        if (home && home.across) show(home.rows, false);
        hide();
        elsewhere(search.value.trim().toLowerCase());
        return;
      }
      const key = FILTERS.map((k) => chosen[k]).join("\n");
      if (home.across && home.key === key) { hide(); return; } // only the search moved
      $("f-count").textContent = "Checking the other parts of the list\u2026";
      everyPart(chosen).then((rows) => {
        if (ticket !== asked || BLUI.failure()) return; // the reader chose again meanwhile
        show(rows, true);
        home.key = key;
        hide();
        elsewhere("");
      }).catch(refuse);
    }
    if (!filtering) {
      for (const i of inputs) i.addEventListener("input", apply);
    }
    filtering = apply;
    apply();
  }

  Object.assign(BLUI, { homeRows, filters, checkParts });
})();
