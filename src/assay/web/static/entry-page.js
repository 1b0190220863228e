// The evidence entry page: runs proof.js's checks on the data the page embeds, and
// checks that the fields the page shows are those of the bytes that were hashed.
import { checkEntry, fromBase64 } from "./proof.js";

const data = JSON.parse(document.getElementById("proof-data").textContent);
const verdict = document.getElementById("browser-verdict");
const list = document.getElementById("browser-checks");
const keyInput = document.getElementById("public-key");

/** The page's labelled fields ([data-field]) against the entry as hashed. */
function fieldsCheck(entry) {
  const name = "The fields shown on this page are those of the entry as hashed";
  let parsed;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(entry));
  } catch {
    return { name, ok: false, detail: "the entry as stored is not UTF-8 JSON" };
  }
  const wrong = [];
  for (const element of document.querySelectorAll("[data-field]")) {
    const field = element.dataset.field;
    const expected = field.split(".").reduce((v, k) => (v == null ? v : v[k]), parsed);
    const shown = element.matches("time") ? element.getAttribute("datetime") : element.textContent.trim();
    const value = expected === null || expected === undefined || expected === "" ? "—" : String(expected);
    if (shown !== value.trim()) wrong.push(field);
  }
  const canonical = document.getElementById("entry-canonical");
  if (canonical && canonical.textContent !== new TextDecoder().decode(entry)) wrong.push("entry as signed");
  return wrong.length
    ? { name, ok: false, detail: `shown differently: ${wrong.join(", ")}` }
    : { name, ok: true, detail: "type, system, version, time, actor and the canonical text match" };
}

function show(checks) {
  list.replaceChildren(
    ...checks.map((check) => {
      const item = document.createElement("li");
      item.className = check.ok === true ? "status-ok" : check.ok === false ? "status-bad" : "status-warn";
      item.textContent = `${check.name}: ${check.ok === true ? "passed" : check.ok === false ? "FAILED" : "not run"} (${check.detail})`;
      return item;
    }),
  );
  const failed = checks.filter((c) => c.ok === false).length;
  const skipped = checks.filter((c) => c.ok === null).length;
  const passed = checks.length - failed - skipped;
  verdict.className = failed ? "status-bad" : skipped ? "status-warn" : "status-ok";
  verdict.textContent = failed
    ? `FAILED in your browser: ${failed} of ${checks.length} checks failed. Do not rely on this entry; run assay ledger verify on a copy you trust.`
    : skipped
      ? `Partly checked in your browser: ${passed} of ${checks.length} checks passed, ${skipped} could not run.`
      : `Verified in your browser: all ${checks.length} checks passed against the public key below.`;
}

async function run() {
  if (!data.checkpoint) {
    verdict.className = "status-warn";
    verdict.textContent = "Not checked in your browser: no signed checkpoint covers this entry yet.";
    return;
  }
  if (!globalThis.crypto?.subtle) {
    verdict.className = "status-warn";
    verdict.textContent =
      "Not checked in your browser: WebCrypto is only offered to pages served over HTTPS or from localhost.";
    return;
  }
  verdict.textContent = "Checking…";
  const checks = await checkEntry(data, keyInput.value);
  checks.push(fieldsCheck(fromBase64(data.entry, "the entry")));
  show(checks);
}

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run();
});
run();
