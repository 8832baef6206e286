// Podcast tables: click a row to select only it, Ctrl/Cmd-click to toggle it, Shift-click to select a range.
// Checkbox clicks, select all and invert stay with app.js; this only adds row clicks like a file manager.
(function () {
  "use strict";
  if (window.__antennaRowSelect) return;
  window.__antennaRowSelect = true;
  var anchor = null;

  function boxes(scope) {
    return Array.prototype.slice.call(scope.querySelectorAll("[data-bulk-item]:not(:disabled)"));
  }

  document.addEventListener("click", function (event) {
    if (event.__antennaSynthetic) return;
    var row = event.target.closest("tr[data-select-row]");
    if (!row || event.target.closest("a, button, input, select, label, summary, textarea")) return;
    var scope = row.closest("[data-bulk]");
    var box = row.querySelector("[data-bulk-item]");
    if (!scope || !box || box.disabled) return;
    var list = boxes(scope);
    if (event.shiftKey && anchor && list.indexOf(anchor) >= 0) {
      var a = list.indexOf(anchor), b = list.indexOf(box);
      if (!(event.ctrlKey || event.metaKey)) list.forEach(function (other) { other.checked = false; });
      list.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (other) { other.checked = true; });
      window.getSelection && window.getSelection().removeAllRanges();
    } else if (event.ctrlKey || event.metaKey) {
      box.checked = !box.checked;
      anchor = box;
    } else {
      var only = !(box.checked && list.filter(function (o) { return o.checked; }).length === 1);
      list.forEach(function (other) { other.checked = false; });
      box.checked = only;
      anchor = box;
    }
    // Let app.js recount: a click inside the bulk area that hits no checkbox only refreshes the bar.
    var refresh = new MouseEvent("click", { bubbles: true });
    refresh.__antennaSynthetic = true;
    scope.dispatchEvent(refresh);
  });

  // Shift-clicking a row would otherwise select the page's text between the two rows.
  document.addEventListener("mousedown", function (event) {
    if (event.shiftKey && event.target.closest("tr[data-select-row]")) event.preventDefault();
  });
})();
