// Progressive enhancement for every page; without it the pages read the same, in UTC
// and unsorted. Timestamps: <time class="when" datetime="..."> is shown in the viewer's
// local time to the second, the exact stored value on hover. Tables with a header and
// more than two rows sort by a column (a button in each header, so the keyboard works,
// aria-sort saying the order) and, past eight rows, filter by the text typed.

const pad = (n) => String(n).padStart(2, "0");

function localTime(date) {
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? "−" : "+";
  const zone = offset === 0 ? "UTC" : `UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${zone}`;
}

export function showLocalTimes(root = document) {
  for (const element of root.querySelectorAll("time.when[datetime]")) {
    const date = new Date(element.getAttribute("datetime"));
    if (!Number.isNaN(date.getTime())) {
      element.textContent = localTime(date);
      element.title = `${element.getAttribute("datetime")} (as stored)`;
    }
  }
}

/** What a cell sorts by: a time's instant, a number (units and % ignored), else its text. */
function sortKey(cell) {
  if (!cell) return "";
  const time = cell.querySelector("time[datetime]");
  if (time) return Date.parse(time.getAttribute("datetime")) || time.getAttribute("datetime");
  const text = (cell.dataset.sort ?? cell.textContent).trim();
  const number = text.match(/^([−-]?\d[\d,]*(?:\.\d+)?)\s*(?:%|ms)?$/);
  return number ? Number(number[1].replace(/,/g, "").replace("−", "-")) : text.toLowerCase();
}

function compare(a, b) {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function sortBy(table, column, header) {
  const body = table.tBodies[0];
  const ascending = header.getAttribute("aria-sort") !== "ascending";
  for (const th of table.tHead.rows[0].cells) th.removeAttribute("aria-sort");
  header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const rows = Array.from(body.rows).map((row, index) => ({ row, index, key: sortKey(row.cells[column]) }));
  rows.sort((x, y) => (ascending ? 1 : -1) * compare(x.key, y.key) || x.index - y.index);
  body.append(...rows.map((r) => r.row));
}

let filters = 0;

function addFilter(table) {
  const id = `table-filter-${++filters}`;
  const wrapper = document.createElement("div");
  wrapper.className = "table-filter";
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = "Filter rows";
  const input = document.createElement("input");
  input.type = "search";
  input.id = id;
  const count = document.createElement("span");
  count.className = "muted";
  count.setAttribute("aria-live", "polite");
  input.addEventListener("input", () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of table.tBodies[0].rows) {
      const text = row.textContent.toLowerCase();
      row.hidden = !words.every((w) => text.includes(w));
      shown += row.hidden ? 0 : 1;
    }
    count.textContent = words.length ? `${shown} of ${table.tBodies[0].rows.length} rows` : "";
  });
  wrapper.append(label, input, count);
  table.before(wrapper);
}

export function enhanceTables(root = document) {
  for (const table of root.querySelectorAll("main table")) {
    const head = table.tHead?.rows[0];
    const body = table.tBodies[0];
    if (!head || !body || body.rows.length < 3 || table.dataset.plain !== undefined) continue;
    if (Array.from(body.rows).some((r) => r.cells.length !== head.cells.length)) continue;
    Array.from(head.cells).forEach((th, column) => {
      if (!th.textContent.trim()) return; // a column of links or buttons: nothing to sort
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.append(...th.childNodes);
      button.title = "Sort by this column";
      button.addEventListener("click", () => sortBy(table, column, th));
      th.append(button);
    });
    if (body.rows.length > 8) addFilter(table);
  }
}

showLocalTimes();
enhanceTables();
