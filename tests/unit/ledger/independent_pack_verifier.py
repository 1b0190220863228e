"""An audit pack verifier written from docs/pack-format.md alone (issue #19 item 20).

It imports nothing from Assay: only ``hashlib``, ``json``, ``zipfile``, ``base64``
and ``cryptography``. If it and ``assay pack verify`` ever disagree, the format
document (or one of the two) is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DASH = "\u2014 "


class Invalid(Exception):
    """The pack does not verify."""


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def parse_key(text: str) -> tuple[str, bytes, bytes]:
    """``NAME+KEYID+BASE64`` -> (name, key id, raw Ed25519 public key)."""
    name, key_id, blob = text.strip().split("+", 2)
    raw = base64.b64decode(blob, validate=True)
    if len(raw) != 33 or raw[0] != 0x01:
        raise Invalid("not an Ed25519 signed-note key")
    if _sha256(name.encode() + b"\n" + raw)[:4] != bytes.fromhex(key_id):
        raise Invalid("key ID does not match the key")
    return name, bytes.fromhex(key_id), raw[1:]


def open_note(note: str, key: tuple[str, bytes, bytes]) -> str:
    """The text of a signed note if every signature line by ``key`` verifies."""
    name, key_id, public = key
    cut = note.rfind("\n\n")
    text, lines = note[: cut + 1], note[cut + 2 :].splitlines()
    mine = []
    for line in lines:
        if not line.startswith(DASH):
            raise Invalid("malformed signature line")
        signer, _, blob = line[len(DASH) :].partition(" ")
        raw = base64.b64decode(blob, validate=True)
        if signer == name and raw[:4] == key_id:
            mine.append(raw[4:])
    if not mine:
        raise Invalid("not signed by the log key")
    for signature in mine:
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, text.encode())
        except InvalidSignature as exc:
            raise Invalid("a signature by the log key does not verify") from exc
    return text


def parse_checkpoint(text: str, origin: str) -> tuple[int, bytes]:
    lines = text.split("\n")
    if lines[0] != origin:
        raise Invalid("checkpoint is from another log")
    size = lines[1]
    if not (size.isascii() and size.isdigit()) or (size != "0" and size.startswith("0")):
        raise Invalid("bad tree size")
    return int(size), base64.b64decode(lines[2], validate=True)


def _node(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right)


def check_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> None:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        raise Invalid("index outside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise Invalid("proof too long")
        if fn % 2 == 1 or fn == sn:
            r = _node(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or r != root:
        raise Invalid("inclusion proof fails")


def check_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> None:
    """RFC 9162 section 2.1.4.2 (for 0 < size1 <= size2)."""
    if size1 == size2:
        if proof or root1 != root2:
            raise Invalid("same size, different roots")
        return
    if not 0 < size1 < size2 or not proof:
        raise Invalid("bad consistency sizes or empty proof")
    if size1 & (size1 - 1) == 0:
        proof = [root1, *proof]
    fn, sn = size1 - 1, size2 - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise Invalid("consistency proof too long")
        if fn % 2 == 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != root1 or sr != root2:
        raise Invalid("consistency proof fails")


def _members(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if len(names) != len(set(names)):
            raise Invalid("duplicate member names")
        return {name: archive.read(name) for name in names}


def _check_manifest(files: dict[str, bytes], key: tuple[str, bytes, bytes]) -> dict[str, object]:
    text = open_note(files["manifest.sig"].decode(), key)
    digest = hashlib.sha256(files["manifest.json"]).hexdigest()
    if text != f"assay.dev/pack-manifest/v1\n{key[0]}\nsha256:{digest}\n":
        raise Invalid("manifest.json is not the signed one")
    manifest = json.loads(files["manifest.json"])
    if manifest["format"] != "assay-pack/v1":
        raise Invalid("unknown format")
    listed = manifest["files"]
    others = set(files) - {"manifest.json", "manifest.sig"}
    if others != set(listed):
        raise Invalid("members differ from the manifest")
    for name in others:
        if hashlib.sha256(files[name]).hexdigest() != listed[name]:
            raise Invalid(f"{name} does not match the manifest")
    return dict(manifest)


def _check_entries(files: dict[str, bytes], size: int, root: bytes) -> list[int]:
    entries = files["entries.jsonl"].splitlines()
    proofs = files["proofs.jsonl"].splitlines()
    if len(entries) != len(proofs):
        raise Invalid("not one proof per entry")
    salts = json.loads(files.get("payloads/salts.json", b"{}"))
    seqs = []
    for entry, line in zip(entries, proofs, strict=True):
        proof = json.loads(line)
        path = [bytes.fromhex(h) for h in proof["path"]]
        check_inclusion(_sha256(b"\x00" + entry), proof["seq"], size, path, root)
        seqs.append(proof["seq"])
        payload = json.loads(entry)["payload"]
        name = f"payloads/{payload['digest'].removeprefix('sha256:')}" if payload else ""
        if payload and name in files:
            salt = bytes.fromhex(salts[payload["digest"]])
            if "sha256:" + hashlib.sha256(salt + files[name]).hexdigest() != payload["digest"]:
                raise Invalid(f"{name} does not match its entry")
    return seqs


def verify(path: str, log_key: str) -> dict[str, object]:
    """Verify the pack at ``path``; returns what it proved, raises :class:`Invalid`."""
    key = parse_key(log_key)
    files = _members(path)
    manifest = _check_manifest(files, key)
    size, root = parse_checkpoint(open_note(files["checkpoint.txt"].decode(), key), key[0])
    if manifest["tree_size"] != size:
        raise Invalid("manifest and checkpoint disagree on the tree size")
    seqs = _check_entries(files, size, root)
    if "consistency.json" in files:
        data = json.loads(files["consistency.json"])
        old_size, old_root = parse_checkpoint(open_note(data["old_checkpoint"], key), key[0])
        proof = [bytes.fromhex(h) for h in data["proof"]]
        check_consistency(old_size, size, old_root, root, proof)
    return {"tree_size": size, "seqs": seqs, "filters": manifest["filters"]}


def check_assessment_citations(results: dict[str, object], log_key: str) -> list[tuple[int, str]]:
    """Prove every verified observation of an OSCAL assessment-results report.

    Returns ``(ledger-seq, leaf-hash)`` of each citation proven against the
    checkpoint embedded in the report's back-matter.
    """
    key = parse_key(log_key)
    document = results["assessment-results"]
    assert isinstance(document, dict)
    embedded = [
        r["base64"]["value"] for r in document["back-matter"]["resources"] if "base64" in r
    ]
    if len(embedded) != 1:
        raise Invalid("the report embeds no checkpoint")
    note = base64.b64decode(embedded[0]).decode()
    size, root = parse_checkpoint(open_note(note, key), key[0])
    proven = []
    for result in document["results"]:
        for observation in result.get("observations", []):
            props = {p["name"]: p["value"] for p in observation["props"]}
            if props["verified"] != "true":
                continue
            if int(props["tree-size"]) != size:
                raise Invalid("citation proven against another checkpoint")
            text = props["inclusion-proof"]
            path = [] if text.startswith("(") else [bytes.fromhex(h) for h in text.split(",")]
            seq, leaf = int(props["ledger-seq"]), props["leaf-hash"]
            check_inclusion(bytes.fromhex(leaf), seq, size, path, root)
            proven.append((seq, leaf))
    return proven
