// Checks an evidence entry's inclusion proof with the browser's own WebCrypto, so an
// auditor need not take the server's word for it. Pure functions, no DOM: the entry page
// (entry-page.js) drives them, and tests/unit/web/test_proof_js.py runs them under node
// against proofs made by assay.ledger.
//
// What the server signs and hashes (src/assay/ledger):
//   leaf hash   = SHA-256(0x00 || entry bytes)            RFC 9162 §2.1.1
//   node hash   = SHA-256(0x01 || left || right)          RFC 9162 §2.1.1
//   audit path  checked as RFC 9162 §2.1.3.2
//   checkpoint  a C2SP signed note (c2sp.org/signed-note) whose text is a
//               tlog-checkpoint body: origin, tree size, base64 root hash
//               (c2sp.org/tlog-checkpoint); signature lines "— name base64(keyid || sig)"
//   public key  a C2SP verifier key "name+keyid+base64(0x01 || Ed25519 key)",
//               keyid = SHA-256(name || 0x0A || 0x01 || key)[:4]

const DASH = "\u2014 ";
const ED25519 = 0x01;

/** A failed check: its message says what did not match. */
export class ProofError extends Error {}

export function fromBase64(text, what) {
  let binary;
  try {
    binary = atob(text);
  } catch {
    throw new ProofError(`${what} is not base64`);
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text, what) {
  if (typeof text !== "string" || !/^(?:[0-9a-f]{2})*$/.test(text)) {
    throw new ProofError(`${what} is not lower-case hex`);
  }
  return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function equal(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** RFC 9162 §2.1.1: the hash of one leaf. */
export function leafHash(entry) {
  return sha256(concat(Uint8Array.of(0x00), entry));
}

/** RFC 9162 §2.1.1: the hash of an interior node. */
export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(0x01), left, right));
}

/**
 * RFC 9162 §2.1.3.2: the root an audit path leads to from leaf `index` of a tree of
 * `size` leaves. Indexes and sizes are BigInt-safe (trees may hold up to 2^63 leaves).
 */
export async function rootFromPath(leaf, index, size, path) {
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  if (fn < 0n || fn > sn) throw new ProofError(`leaf ${index} is outside a tree of size ${size}`);
  let r = leaf;
  for (const p of path) {
    if (p.length !== 32) throw new ProofError("a path hash is not 32 bytes (SHA-256)");
    if (sn === 0n) throw new ProofError("the audit path is longer than the tree allows");
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError("the audit path is shorter than the tree requires");
  return r;
}

/** c2sp.org/signed-note: the note's text and its signature lines (nothing verified). */
export function openNote(note) {
  if ([...note].some((c) => c < " " && c !== "\n")) {
    throw new ProofError("the checkpoint holds control characters");
  }
  const cut = note.lastIndexOf("\n\n");
  if (cut < 0 || !note.endsWith("\n")) {
    throw new ProofError("the checkpoint has no blank line before its signatures");
  }
  const lines = note.slice(cut + 2, -1).split("\n");
  const signatures = lines.map((line) => {
    if (!line.startsWith(DASH)) throw new ProofError("a checkpoint signature line is malformed");
    const rest = line.slice(DASH.length);
    const space = rest.indexOf(" ");
    const raw = fromBase64(rest.slice(space + 1), "a checkpoint signature");
    if (space < 1 || raw.length < 5) throw new ProofError("a checkpoint signature line is malformed");
    return { name: rest.slice(0, space), keyId: raw.slice(0, 4), signature: raw.slice(4) };
  });
  return { text: note.slice(0, cut + 1), signatures };
}

/** c2sp.org/tlog-checkpoint: origin, tree size and root hash of a checkpoint's text. */
export function parseCheckpoint(text) {
  const lines = text.split("\n");
  if (lines.length < 4 || lines[lines.length - 1] !== "") {
    throw new ProofError("the checkpoint needs origin, tree size and root hash lines");
  }
  const [origin, size, root] = lines;
  if (!origin) throw new ProofError("the checkpoint's origin line is empty");
  if (!/^(?:0|[1-9][0-9]{0,18})$/.test(size) || BigInt(size) >= 2n ** 63n) {
    throw new ProofError("the checkpoint's tree size is not a decimal number");
  }
  const rootHash = fromBase64(root, "the checkpoint's root hash");
  if (rootHash.length !== 32) throw new ProofError("the checkpoint's root hash is not 32 bytes");
  return { origin, treeSize: BigInt(size), rootHash };
}

/** c2sp.org/signed-note: a verifier key "name+keyid+base64", its key ID recomputed. */
export async function parseVerifierKey(text) {
  const value = text.trim();
  const first = value.indexOf("+");
  const second = value.indexOf("+", first + 1);
  if (first < 1 || second < 0) {
    throw new ProofError("a public key looks like name+keyid+base64 (three parts joined by '+')");
  }
  const name = value.slice(0, first);
  const keyId = fromHex(value.slice(first + 1, second), "the public key's key ID");
  const raw = fromBase64(value.slice(second + 1), "the public key");
  if (raw.length !== 33 || raw[0] !== ED25519) {
    throw new ProofError("the public key is not an Ed25519 signed-note key (type 0x01)");
  }
  const publicKey = raw.slice(1);
  const expected = (await sha256(concat(new TextEncoder().encode(`${name}\n`), raw))).slice(0, 4);
  if (!equal(expected, keyId)) throw new ProofError("the public key's key ID does not match the key");
  return { name, keyId, publicKey };
}

/**
 * The checkpoint's text if every signature line by `key` verifies (Ed25519 in WebCrypto).
 * As c2sp.org/signed-note asks, one bad line by the key fails the note even when another
 * verifies; lines by other keys (witness cosignatures) are not this check's business.
 */
export async function verifyNote(note, key) {
  const { text, signatures } = openNote(note);
  const mine = signatures.filter((s) => s.name === key.name && equal(s.keyId, key.keyId));
  if (mine.length === 0) {
    throw new ProofError(`the checkpoint is not signed by ${key.name} (key ID ${toHex(key.keyId)})`);
  }
  const cryptoKey = await crypto.subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, [
    "verify",
  ]);
  for (const line of mine) {
    const good = await crypto.subtle.verify(
      { name: "Ed25519" },
      cryptoKey,
      line.signature,
      new TextEncoder().encode(text),
    );
    if (!good) throw new ProofError(`the signature by ${key.name} does not verify`);
  }
  return text;
}

/**
 * Every check an auditor would run on one entry, in order; each is
 * `{name, ok, detail}` with `ok` true, false, or null when it could not run.
 * `data` is what the page embeds: entry (base64 of the stored bytes), seq, leaf_hash,
 * tree_size, path (hex), checkpoint (the signed note).
 */
export async function checkEntry(data, publicKeyText) {
  const checks = [];
  const run = async (name, fn) => {
    try {
      const detail = await fn();
      checks.push({ name, ok: true, detail });
      return true;
    } catch (error) {
      const unsupported = error?.name === "NotSupportedError";
      const detail = unsupported
        ? "this browser cannot verify Ed25519 signatures (Chromium 137+, Firefox 129+ and Safari 17+ can)"
        : error instanceof ProofError
          ? error.message
          : `${error?.name ?? "Error"}: ${error?.message ?? error}`;
      checks.push({ name, ok: unsupported ? null : false, detail });
      return false;
    }
  };
  const entry = fromBase64(data.entry, "the entry");
  let leaf;
  await run("Leaf hash: SHA-256(0x00 ‖ entry) of the entry as stored", async () => {
    leaf = await leafHash(entry);
    if (toHex(leaf) !== data.leaf_hash) {
      throw new ProofError(`recomputed ${toHex(leaf)}, the server states ${data.leaf_hash}`);
    }
    return toHex(leaf);
  });
  let key;
  const keyOk = await run("Public key: a C2SP Ed25519 verifier key whose key ID matches", async () => {
    key = await parseVerifierKey(publicKeyText);
    return `${key.name}, key ID ${toHex(key.keyId)}`;
  });
  let checkpoint;
  const signed = keyOk && (await run("Checkpoint signature: Ed25519 over the signed note", async () => {
    checkpoint = parseCheckpoint(await verifyNote(data.checkpoint, key));
    return `${checkpoint.origin}, tree size ${checkpoint.treeSize}`;
  }));
  if (!signed) {
    checks.push({ name: "Audit path (RFC 9162 §2.1.3.2) to the signed root", ok: null, detail: "not run: no verified checkpoint" });
    return checks;
  }
  await run("Audit path (RFC 9162 §2.1.3.2) to the signed root", async () => {
    if (BigInt(data.tree_size) !== checkpoint.treeSize) {
      throw new ProofError(`the proof is for tree size ${data.tree_size}, the checkpoint signs ${checkpoint.treeSize}`);
    }
    const path = data.path.map((h) => fromHex(h, "a path hash"));
    const root = await rootFromPath(leaf ?? (await leafHash(entry)), data.seq, data.tree_size, path);
    if (!equal(root, checkpoint.rootHash)) {
      throw new ProofError("the audit path does not lead to the signed root hash");
    }
    return `${path.length} hash${path.length === 1 ? "" : "es"} lead${path.length === 1 ? "s" : ""} to the signed root ${toHex(root).slice(0, 16)}…`;
  });
  return checks;
}
