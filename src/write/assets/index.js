(function () {
  "use strict";
  var table = document.getElementById("docs");
  var body = table.tBodies[0];
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.forEach(function (th, col) {
    var b = th.querySelector("button");
    if (!b) { return; }
    b.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      var numeric = th.classList.contains("n");
      var rows = Array.prototype.slice.call(body.rows);
      function key(tr, c) { var td = tr.cells[c]; return td.getAttribute("data-v") || td.textContent.trim(); }
      rows.sort(function (x, y) {
        var a = key(x, col), b = key(y, col);
        var d = numeric ? Number(a) - Number(b) : a.localeCompare(b);
        if (d === 0) { d = key(x, 0).localeCompare(key(y, 0)); }
        return asc ? d : -d;
      });
      rows.forEach(function (tr) { body.appendChild(tr); });
      heads.forEach(function (h) { if (h.querySelector("button")) { h.setAttribute("aria-sort", "none"); } });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    });
  });
})();
