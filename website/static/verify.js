/* blockledger's verifier, for the reader's browser. Short enough to audit in one sitting.
 *
 * It mirrors the Python checks (ledger/checkpoint.py, ledger/merkle.py,
 * projections/proof.py) for what a page shows: the checkpoint note parsed strictly, its
 * Ed25519 signature by the published key (WebCrypto, else the vendored @noble/ed25519,
 * with the vendored @noble/hashes for SHA-2 where the page has no WebCrypto at all),
 * each event's SHA-256 over its shipped canonical bytes, and its RFC 9162 inclusion proof
 * against the checkpoint's root; and RFC 9162 consistency proofs from earlier checkpoints.
 * It fails closed: anything malformed, missing or unexpected is a failure, named.
 */
"use strict";
const BL = (() => {
  class Failure extends Error {}
  const fail = (msg) => { throw new Failure(msg); };
  const enc = new TextEncoder();

  function b64(text, what) {
    if (typeof text !== "string" || text.length % 4 !== 0 ||
        !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) fail(`${what} is not standard base64`);
    const bin = atob(text);
    if (btoa(bin) !== text) fail(`${what} is not canonical base64`);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }
  function hash32(text, what) {
    const h = b64(text, what);
    if (h.length !== 32) fail(`${what} is not a 32-byte hash`);
    return h;
  }
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  /* WebCrypto where the page has it; the vendored @noble/hashes where it has none
   * (crypto.subtle exists only in secure contexts: https, file, localhost). */
  const subtle = () => (globalThis.crypto && crypto.subtle) || null;
  function sha2() {
    if (!globalThis.nobleHashes) {
      fail("this browser offers no WebCrypto here and the bundled SHA-2 is missing");
    }
    return globalThis.nobleHashes;
  }
  const sha256 = async (bytes) => (subtle()
    ? new Uint8Array(await subtle().digest("SHA-256", bytes))
    : sha2().sha256(bytes));
  const leafHash = (leaf) => sha256(concat(Uint8Array.of(0), leaf));
  const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));
  /* Like ledger.merkle: a malformed proof is not a proof (false), never an exception. */
  const natural = (v) => Number.isSafeInteger(v) && v >= 0;
  const hashes = (...hs) => hs.every((h) => h instanceof Uint8Array && h.length === 32);
  function size(value, what) {
    if (!Number.isSafeInteger(value) || value < 0) fail(`${what} is not a tree size`);
    return BigInt(value);
  }

  /* RFC 9162 2.1.3.2, as ledger.merkle.verify_inclusion. */
  async function verifyInclusion(leaf, index, treeSize, proof, root) {
    if (!natural(index) || !natural(treeSize) || !hashes(root, ...proof)) return false;
    let fn = BigInt(index); let sn = BigInt(treeSize);
    if (fn >= sn) return false;
    sn -= 1n;
    let r = await leafHash(leaf);
    for (const p of proof) {
      if (sn === 0n) return false;
      if ((fn & 1n) || fn === sn) {
        r = await nodeHash(p, r);
        if (!(fn & 1n)) while (fn && !(fn & 1n)) { fn >>= 1n; sn >>= 1n; }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n; sn >>= 1n;
    }
    return sn === 0n && equal(r, root);
  }

  /* RFC 9162 2.1.4.2, as ledger.merkle.verify_consistency (edges included). */
  async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
    if (!natural(oldSize) || !natural(newSize) || !hashes(oldRoot, newRoot, ...proof)) return false;
    const m = BigInt(oldSize); const n = BigInt(newSize);
    if (m > n) return false;
    if (m === n) return proof.length === 0 && equal(oldRoot, newRoot);
    if (m === 0n) return proof.length === 0 && equal(oldRoot, await sha256(new Uint8Array()));
    if (proof.length === 0) return false;
    const path = (m & (m - 1n)) === 0n ? [oldRoot, ...proof] : proof.slice();
    let fn = m - 1n; let sn = n - 1n;
    while (fn & 1n) { fn >>= 1n; sn >>= 1n; }
    let fr = path[0]; let sr = path[0];
    for (const c of path.slice(1)) {
      if (sn === 0n) return false;
      if ((fn & 1n) || fn === sn) {
        fr = await nodeHash(c, fr); sr = await nodeHash(c, sr);
        if (!(fn & 1n)) while (fn && !(fn & 1n)) { fn >>= 1n; sn >>= 1n; }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn >>= 1n; sn >>= 1n;
    }
    return sn === 0n && equal(fr, oldRoot) && equal(sr, newRoot);
  }

  const SIZE = /^(0|[1-9][0-9]{0,15})$/;
  const TIME = /^time ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z)$/;

  /* A checkpoint note, exactly the form ledger.checkpoint.Checkpoint.to_note writes. */
  function parseNote(text) {
    if (typeof text !== "string" || !text.endsWith("\n")) fail("the checkpoint is not a note");
    if (/[\x00-\x09\x0b-\x1f]/.test(text)) fail("the checkpoint holds a control character");
    const blank = text.lastIndexOf("\n\n");
    if (blank < 0) fail("the checkpoint has no blank line before its signatures");
    const body = text.slice(0, blank + 1);
    const sigText = text.slice(blank + 2);
    const lines = body.slice(0, -1).split("\n");
    if (lines.slice(1).includes("") || (lines.length !== 5 && lines.length !== 6)) {
      fail("the checkpoint's text is not origin, size, root, chain, time and platforms");
    }
    const [origin, sizeText, rootText, chain, time] = lines;
    if (!origin) fail("the checkpoint's origin is empty");
    if (!SIZE.test(sizeText)) fail("the checkpoint's tree size is not a number");
    const root = hash32(rootText, "the checkpoint's root hash");
    if (!/^chain [0-9a-f]{64}$/.test(chain)) fail("the checkpoint's chain line is malformed");
    const when = TIME.exec(time);
    if (!when) fail("the checkpoint's time line is malformed");
    let index = null;
    if (lines.length === 6) {
      /* The index line, versioned (ledger.checkpoint): "platforms SIZE ROOT" is version 1
       * (platform leaves), "index 2 SIZE ROOT" version 2 (orders' and requests' leaves
       * too, named order/REF and request/REF), "index 3 SIZE ROOT" version 3 (and the
       * ledger's settings, ledger/ledger); a platform's run proves the same in each. */
      let f = lines[5].split(" ");
      let version = 1;
      if (f.length === 4 && f[0] === "index" && (f[1] === "2" || f[1] === "3")) {
        version = Number(f[1]);
        f = f.slice(1);
      } else if (f[0] !== "platforms") {
        fail("the checkpoint's index line is malformed (or of a version this page does not know)");
      }
      if (f.length !== 3 || !SIZE.test(f[1])) {
        fail("the checkpoint's platforms line is malformed");
      }
      index = { version, size: Number(f[1]),
                root: hash32(f[2], "the checkpoint's platform index root") };
    }
    const signatures = (sigText ? sigText.slice(0, -1).split("\n") : []).map((line, i) => {
      const f = line.startsWith("\u2014 ") ? line.slice(2).split(" ") : [];
      if (f.length !== 2 || !f[0]) fail(`the checkpoint's signature line ${i + 1} is malformed`);
      const raw = b64(f[1], `signature line ${i + 1}`);
      if (raw.length < 5) fail(`the checkpoint's signature line ${i + 1} is too short`);
      return { name: f[0], keyId: raw.slice(0, 4), signature: raw.slice(4) };
    });
    return { origin, treeSize: Number(sizeText), root, time: when[1], index,
             body: enc.encode(body), signatures };
  }

  async function ed25519(pub, sig, msg) {
    if (!subtle()) { // no WebCrypto at all: both vendored libraries
      sha2();
      if (!globalThis.nobleEd25519) fail("this browser offers no WebCrypto here and the bundled Ed25519 is missing");
      try {
        return { ok: globalThis.nobleEd25519.verifySync(sig, msg, pub), by: "noble-ed25519 with noble-hashes" };
      } catch (_) {
        return { ok: false, by: "noble-ed25519 with noble-hashes" };
      }
    }
    try {
      const key = await subtle().importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
      return { ok: await subtle().verify({ name: "Ed25519" }, key, sig, msg), by: "WebCrypto" };
    } catch (error) {
      if (error instanceof Failure) throw error;
      if (!globalThis.nobleEd25519) fail("this browser has no Ed25519 and the bundled verifier is missing");
      try {
        return { ok: await globalThis.nobleEd25519.verifyAsync(sig, msg, pub), by: "noble-ed25519" };
      } catch (_) {
        return { ok: false, by: "noble-ed25519" };
      }
    }
  }

  /* signed-note: lines from other keys are ignored; one from ours that fails fails all. */
  async function checkSignature(note, signer) {
    exactKeys(signer, ["name", "public_key", "key_id"], "the published signer");
    if (typeof signer.name !== "string" || !signer.name) fail("no signer is published");
    const pub = hash32(signer.public_key, "the published public key");
    const id = (await sha256(concat(enc.encode(signer.name + "\n"), Uint8Array.of(1), pub)))
      .slice(0, 4);
    if (hex(id) !== signer.key_id) fail("the published key ID is not the key's");
    const ours = note.signatures.filter((s) => s.name === signer.name && equal(s.keyId, id));
    if (!ours.length) fail(`the checkpoint carries no signature by ${signer.name}`);
    let by = "";
    for (const s of ours) {
      if (s.signature.length !== 64) fail("the checkpoint's signature is not 64 bytes");
      const result = await ed25519(pub, s.signature, note.body);
      if (!result.ok) fail(`the checkpoint's signature by ${signer.name} does not verify`);
      by = result.by;
    }
    return by;
  }

  /* RFC 8785 for what events hold: strings, booleans, null, safe integers, lists, objects. */
  function canonical(v) {
    if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
    if (typeof v === "number") {
      if (!Number.isSafeInteger(v)) fail("an event holds a number that is not a safe integer");
      return String(v);
    }
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
    if (typeof v === "object") {
      return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
    }
    fail("an event holds a value JSON cannot");
  }

  const HASHED = ["id", "type", "subject", "occurred_at", "sources", "note", "data",
                  "recorded_at", "recorded_by", "position"];
  const SHIPPED = ["n", "hash", "canonical", "leaf_index", "proof", "signature"];
  function exactKeys(obj, keys, what) {
    if (!obj || typeof obj !== "object" || Array.isArray(obj)) fail(`${what} is not an object`);
    const got = Object.keys(obj).sort().join(",");
    if (got !== keys.slice().sort().join(",")) fail(`${what} has other fields than expected`);
  }

  /* One shipped event: its bytes hash to its hash, which the checkpoint's tree holds at its
   * leaf index; the bytes are canonical JSON of an exported event. Returns the event. */
  async function checkEvent(item, note, kind = "event") {
    const name = item && Number.isSafeInteger(item.n) ? `${kind} ${item.n}` : `an ${kind}`;
    exactKeys(item, SHIPPED, name);
    if (typeof item.canonical !== "string") fail(`${name}: its bytes are missing`);
    if (!Array.isArray(item.proof) || item.proof.length > 64) fail(`${name}: its proof is not a list`);
    const proof = item.proof.map((p, i) => hash32(p, `${name}: proof hash ${i + 1}`));
    const digest = await sha256(enc.encode(item.canonical));
    if (hex(digest) !== item.hash) fail(`${name}: its bytes do not hash to its SHA-256 (altered)`);
    if (!await verifyInclusion(digest, item.leaf_index, note.treeSize, proof, note.root)) {
      fail(`${name}: its inclusion proof does not reach the checkpoint's root`);
    }
    let event;
    try { event = JSON.parse(item.canonical); } catch (_) { fail(`${name}: its bytes are not JSON`); }
    if (!event || typeof event !== "object" || Array.isArray(event)) fail(`${name} is not an object`);
    if (canonical(event) !== item.canonical) fail(`${name}: its bytes are not canonical JSON`);
    for (const k of Object.keys(event)) if (!HASHED.includes(k)) fail(`${name}: unknown field ${k}`);
    for (const k of ["id", "type", "subject", "occurred_at", "recorded_at"]) {
      if (typeof event[k] !== "string") fail(`${name}: ${k} is missing`);
    }
    if (!Array.isArray(event.sources) || !event.data || typeof event.data !== "object") {
      fail(`${name}: its sources or data are missing`);
    }
    return event;
  }

  /* The operators the ledger registered, from its operator events shipped with the page
   * (each verified like any event) and proven to be all of them by the checkpoint's
   * platform index (its "#operators" run): as ledger.signatures.operators. */
  async function checkOperators(ops, note) {
    exactKeys(ops, ["events", "proof"], "the operators");
    if (!Array.isArray(ops.events)) fail("the operators' events are not a list");
    const events = [];
    for (const item of ops.events) events.push(await checkEvent(item, note, "operator event"));
    const { positions } = await checkRange("#operators", ops.proof, note);
    const have = events.map((ev) => ev.position).sort((a, b) => a - b);
    if (have.join() !== positions.join() || positions.length !== ops.proof.count) {
      fail("the operator events shipped are not all of the ledger's (an operator was left out or added)");
    }
    const found = new Map();
    for (const ev of events.slice().sort((a, b) => a.position - b.position)) {
      if (ev.type === "operator-added") {
        const key = hash32(ev.data.public_key, `operator ${ev.subject}'s public key`);
        found.set(ev.subject, { name: ev.subject, key, keyId: hex(await sha256(key)).slice(0, 32),
                                role: ev.data.role || "recorder", added: ev.position, revoked: null });
      } else if (ev.type === "operator-revoked" && found.has(ev.subject)) {
        found.get(ev.subject).revoked = ev.position;
      } else if (ev.type !== "operator-revoked") {
        fail(`operator event at position ${ev.position} is a ${ev.type}`);
      }
    }
    return { list: [...found.values()], events: ops.events.map((item, i) => [item, events[i]]) };
  }

  /* One event's operator signature (Ed25519 over "blockledger event signature v1", a
   * newline and the 32 bytes of its hash) by the operators as they stood at its position:
   * the checks of ledger.signatures.check. Returns the signer's name, or null for an
   * event written before the first operator (unsigned, as verify reports it). */
  const SIGNED = enc.encode("blockledger event signature v1\n");
  async function checkAttribution(item, event, operators, label) {
    const first = Math.min(...operators.map((o) => o.added));
    if (item.signature === null) {
      if (Number.isFinite(first) && event.position > first) {
        fail(`${label} is not signed, though an operator was registered before it`);
      }
      return null;
    }
    exactKeys(item.signature, ["key_id", "signature"], `${label}'s signature`);
    const op = operators.find((o) => o.keyId === item.signature.key_id);
    if (!op || event.position < op.added) fail(`${label} is signed by a key no operator had then`);
    const sig = b64(item.signature.signature, `${label}'s signature`);
    const digest = Uint8Array.from(item.hash.match(/../g), (h) => parseInt(h, 16));
    if (sig.length !== 64 || !(await ed25519(op.key, sig, concat(SIGNED, digest))).ok) {
      fail(`${label}: its operator signature does not verify with ${op.name}'s key`);
    }
    if (op.revoked !== null && event.position > op.revoked) {
      fail(`${label} is signed by ${op.name}'s key after it was revoked`);
    }
    if (op.role !== "recorder") fail(`${label} is signed by ${op.name}, an ${op.role}, not a recorder`);
    if (event.recorded_by !== op.name) {
      fail(`${label} says it was recorded by ${event.recorded_by} but ${op.name} signed it`);
    }
    return op.name;
  }

  /* The platform index leaf of (platform, position): UTF-8 name, 0x00, uint64 big-endian. */
  function indexLeaf(platform, position) {
    const name = enc.encode(platform);
    if (!name.length || name.includes(0)) fail("an index name is empty or holds a NUL");
    const at = new Uint8Array(8);
    new DataView(at.buffer).setBigUint64(0, size(position, "an index position"));
    return concat(name, Uint8Array.of(0), at);
  }
  function before(a, b) { // bytewise a < b
    for (let i = 0; i < Math.min(a.length, b.length); i += 1) if (a[i] !== b[i]) return a[i] < b[i];
    return a.length < b.length;
  }

  /* The positions of a platform in the checkpoint's platform index, proven complete: as
   * ledger.platform_index.check_range (the run of its leaves, and a neighbour of another
   * platform proven on each side unless the run touches the index's edge). A long
   * platform's page carries one part of its run: the leaves from ``offset`` in the run of
   * ``count`` leaves at ``first``; the neighbours still bound the whole run (the index is
   * sorted, so every leaf between them is the platform's), which proves ``count``. */
  async function checkRange(platform, proof, note) {
    const what = `the completeness proof of ${platform}`;
    if (!note.index) fail(`${what}: the checkpoint has no platform index`);
    const { size: total, root } = note.index;
    exactKeys(proof, ["first", "offset", "count", "positions", "proofs", "before", "after"], what);
    const { first, offset, count, positions, proofs } = proof;
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(offset) ||
        !Number.isSafeInteger(count) || !Array.isArray(positions) || !Array.isArray(proofs) ||
        positions.length !== proofs.length || !positions.every(Number.isSafeInteger)) {
      fail(`${what} is malformed`);
    }
    for (let i = 1; i < positions.length; i += 1) {
      if (positions[i] <= positions[i - 1]) fail(`${what}: position ${positions[i]} repeats`);
    }
    const end = first + count;
    if (!(first >= 0 && offset >= 0 && offset + positions.length <= count && end <= total)) {
      fail(`${what}: its leaves are not in the index`);
    }
    const path = (items, label) => {
      if (!Array.isArray(items) || items.length > 64) fail(`${what}: ${label} is not a proof`);
      return items.map((p, i) => hash32(p, `${what}: ${label} hash ${i + 1}`));
    };
    for (const [i, position] of positions.entries()) {
      if (!await verifyInclusion(indexLeaf(platform, position), first + offset + i, total,
                                 path(proofs[i], `position ${position}`), root)) {
        fail(`${what}: position ${position} is not in the checkpoint's index`);
      }
    }
    const name = enc.encode(platform);
    for (const [side, at, needed] of [["before", first - 1, first > 0], ["after", end, end < total]]) {
      const other = proof[side];
      if (!needed) {
        if (other !== null) fail(`${what}: a neighbour ${side} the index's edge`);
        continue;
      }
      exactKeys(other, ["platform", "position", "proof"], `${what}: the neighbour ${side}`);
      if (typeof other.platform !== "string") fail(`${what}: the neighbour ${side} is malformed`);
      const theirs = enc.encode(other.platform);
      if (side === "before" ? !before(theirs, name) : !before(name, theirs)) {
        fail(`${what}: the neighbour ${side} does not sort ${side} it`);
      }
      if (!await verifyInclusion(indexLeaf(other.platform, other.position), at, total,
                                 path(other.proof, `the neighbour ${side}`), root)) {
        fail(`${what}: the neighbour ${side} is not in the index (an event may have been left out)`);
      }
    }
    return { positions, offset, count };
  }

  /* The publisher's signature over one of its statements (a platform's status snapshots,
   * the home page's rows, an order's or a request's headline), bound to this checkpoint:
   * version 2 to the SHA-256 of its signed text (website.pages.statement_binding: its
   * size, root and time, so no statement of another publication of the same tree
   * verifies here). Version 1 bound it to the root only: such a statement is an earlier
   * publication's (returns true, for the page to say so), never this one's. */
  const PREFIXES = { snapshots: "blockledger site snapshots", home: "blockledger site home",
                     subject: "blockledger site subject" };
  const REFUSED = { home: "the platforms' list is not the one the publisher signed",
                    snapshots: "the status snapshots are not the ones the publisher signed",
                    subject: "the headline (state, authority, conditions, platforms) is not " +
                             "the one the publisher signed" };
  async function checkStatement(kind, statement, signature, note, signer) {
    if (!Object.prototype.hasOwnProperty.call(PREFIXES, kind)) fail(`no statement of the kind ${kind}`);
    const sig = b64(signature, `the signature of the ${kind} statement`);
    const pub = hash32(signer.public_key, "the published public key");
    if (sig.length !== 64) fail(REFUSED[kind]);
    const signed = async (version, binding) => (await ed25519(pub, sig, enc.encode(
      `${PREFIXES[kind]} v${version}\n${canonical({ ...statement, ...binding })}`))).ok;
    if (await signed(2, { checkpoint: hex(await sha256(note.body)) })) return false;
    if (await signed(1, { root: btoa(String.fromCharCode(...note.root)) })) return true;
    fail(REFUSED[kind]);
  }

  /* A chunk of a platform's status snapshots against its signed description (instants of
   * its first and last snapshot, length, SHA-256 of its canonical JSON: website.slider). */
  async function checkChunk(meta, snapshots, what) {
    exactKeys(meta, ["from", "to", "count", "digest"], what);
    if (!Array.isArray(snapshots) || snapshots.length !== meta.count || !snapshots.length) {
      fail(`${what} is not as long as its publisher signed`);
    }
    if (hex(await sha256(enc.encode(canonical(snapshots)))) !== meta.digest) {
      fail(`${what} is not the one the publisher signed (its SHA-256 differs)`);
    }
    let before = -Infinity;
    for (const s of snapshots) {
      if (!s || !Number.isSafeInteger(s.ms) || s.ms <= before || !s.status ||
          typeof s.status !== "object") fail(`${what} is malformed`);
      before = s.ms;
    }
    if (snapshots[0].ms !== meta.from || before !== meta.to) fail(`${what} is not of its signed days`);
    return snapshots;
  }

  /* The home page's search index (website.home.SEARCH), against the count and SHA-256
   * that the page's signed statement gives: every platform, its name and its part. */
  async function checkSearch(meta, index) {
    exactKeys(meta, ["count", "digest"], "the search index's description");
    if (!Array.isArray(index) || index.length !== meta.count) {
      fail("the search index is not as long as its publisher signed");
    }
    await checkDigest(meta, index, "the search index");
    for (const e of index) exactKeys(e, ["name", "part", "ref"], "an entry of the search index");
    return index;
  }

  /* A data file of the site (``what``) against the SHA-256 of its canonical JSON that a
   * signed statement gives (meta.digest). */
  async function checkDigest(meta, value, what) {
    if (!meta || typeof meta.digest !== "string" ||
        hex(await sha256(enc.encode(canonical(value)))) !== meta.digest) {
      fail(`${what} is not the one the publisher signed (its SHA-256 differs)`);
    }
  }

  /* An earlier checkpoint: signed by the same key, and extended by this one. */
  async function checkEarlier(item, note, signer) {
    exactKeys(item, ["file", "note", "proof"], "an earlier publication");
    const old = parseNote(item.note);
    await checkSignature(old, signer);
    if (old.origin !== note.origin) fail(`${item.file}: another log (origin ${old.origin})`);
    if (!Array.isArray(item.proof) || item.proof.length > 130) fail(`${item.file}: no proof`);
    const proof = item.proof.map((p, i) => hash32(p, `${item.file}: proof hash ${i + 1}`));
    if (!await verifyConsistency(old.treeSize, note.treeSize, old.root, note.root, proof)) {
      fail(`${item.file}: this checkpoint does not extend it (consistency proof fails)`);
    }
    return old;
  }

  return { Failure, parseNote, checkSignature, checkEvent, checkEarlier, checkRange,
           checkOperators, checkAttribution, checkChunk, checkSearch, checkDigest,
           checkStatement, verifyInclusion,
           verifyConsistency, canonical, hex, b64,
           b64encode: (bytes) => btoa(String.fromCharCode(...bytes)) };
})();
