// Sortable leaderboard table: progressive enhancement; without JS the server's order stands.
(function () {
  "use strict";
  const table = document.querySelector("table[data-sortable]");
  if (!table) return;
  const headers = Array.from(table.tHead.rows[0].cells);
  const body = table.tBodies[0];
  // Ties (equal rank UB, say) fall back to the server's order, which is by rating.
  Array.from(body.rows).forEach(function (row, i) { row.dataset.position = String(i); });

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
      // Numbers where bigger is better (rating, votes) sort descending first; ranks ascending.
      const current = th.getAttribute("aria-sort");
      const firstDescending = kind === "number" && index !== 0;
      let ascending = current ? current !== "ascending" : !firstDescending;
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const rows = Array.from(body.rows);
      rows.sort(function (a, b) {
        const x = key(a, index, kind), y = key(b, index, kind);
        const order = x < y ? -1 : x > y ? 1 : 0;
        if (order === 0) return Number(a.dataset.position) - Number(b.dataset.position);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
