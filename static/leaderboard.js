// Leaderboard table: sorting and filters, as progressive enhancement. Without JS the server's
// order (established by rating, then provisional, then not comparable) and every row stand.
(function () {
  "use strict";
  const table = document.querySelector("table[data-sortable]");
  if (!table) return;
  const headers = Array.from(table.tHead.rows[0].cells);
  const bodies = Array.from(table.tBodies);
  // Rows sort within their group (tbody), so a provisional contender never rises above an
  // established one; ties fall back to the server's order.
  bodies.forEach(function (body) {
    Array.from(body.rows).forEach(function (row, i) { row.dataset.position = String(i); });
  });

  function key(row, index, kind) {
    const raw = row.cells[index].dataset.value || row.cells[index].textContent;
    return kind === "number" ? parseFloat(raw) : raw.toLowerCase();
  }

  headers.forEach(function (th, index) {
    const kind = th.dataset.sort;
    if (!kind) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "lb-sort";
    button.textContent = th.textContent;
    th.textContent = "";
    th.appendChild(button);
    button.addEventListener("click", function () {
      // The first click sorts the useful way: ranks and interval widths ascending, other
      // numbers (rating, votes) descending, text A→Z; a second click reverses.
      const current = th.getAttribute("aria-sort");
      const first = th.dataset.first || (kind === "number" ? "descending" : "ascending");
      const ascending = current ? current !== "ascending" : first === "ascending";
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      bodies.forEach(function (body) {
        const rows = Array.from(body.rows).filter(function (r) { return !r.classList.contains("lb-group-row"); });
        rows.sort(function (a, b) {
          const x = key(a, index, kind), y = key(b, index, kind);
          const order = x < y ? -1 : x > y ? 1 : 0;
          if (order === 0) return Number(a.dataset.position) - Number(b.dataset.position);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  // Filters: search, minimum votes, hide provisional, show deprecated (hidden by default).
  const form = document.getElementById("lb-controls");
  if (!form) return;
  form.hidden = false;
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  const search = document.getElementById("lb-search");
  const minVotes = document.getElementById("lb-min-votes");
  const hideProvisional = document.getElementById("lb-hide-provisional");
  const showDeprecated = document.getElementById("lb-show-deprecated");
  const shown = document.getElementById("lb-shown");
  const rows = Array.from(document.querySelectorAll(".lb-table tr[data-contender][data-status]"));

  function apply() {
    const q = search.value.trim().toLowerCase();
    const least = parseInt(minVotes.value, 10) || 0;
    let visible = 0;
    rows.forEach(function (row) {
      const text = row.textContent.toLowerCase();
      const hide = (q && text.indexOf(q) < 0) ||
        Number(row.dataset.votes) < least ||
        (hideProvisional.checked && row.dataset.status !== "ranked") ||
        (!showDeprecated.checked && row.hasAttribute("data-deprecated"));
      row.hidden = Boolean(hide);
      if (!hide) visible += 1;
    });
    document.querySelectorAll(".lb-table tbody").forEach(function (body) {
      const any = Array.from(body.rows).some(function (r) { return r.dataset.contender && !r.hidden; });
      body.hidden = !any;
    });
    shown.textContent = visible + " of " + rows.length + " shown";
  }
  [search, minVotes, hideProvisional, showDeprecated].forEach(function (el) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });
  apply();
})();
