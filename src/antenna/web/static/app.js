// Antenna UI helpers: theme toggle and bulk selection (select all, shift-click ranges, invert).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (!toggle) return;
    var next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("antenna-theme", next);
  });

  var lastChecked = null;

  function items(form) {
    return Array.prototype.slice.call(form.querySelectorAll("[data-bulk-item]:not(:disabled)"));
  }

  function refresh(form) {
    var selected = items(form).filter(function (box) { return box.checked; }).length;
    var bar = form.querySelector("[data-bulk-bar]");
    var count = form.querySelector("[data-bulk-count]");
    if (bar) bar.hidden = selected === 0;
    if (count) count.textContent = selected + " selected";
    var all = form.querySelector("[data-bulk-all]");
    if (all) {
      var total = items(form).length;
      all.checked = total > 0 && selected === total;
      all.indeterminate = selected > 0 && selected < total;
    }
  }

  document.addEventListener("click", function (event) {
    var box = event.target.closest("[data-bulk-item]");
    var form = event.target.closest("[data-bulk]");
    if (!form) return;
    if (box) {
      if (event.shiftKey && lastChecked && lastChecked !== box) {
        var list = items(form);
        var a = list.indexOf(lastChecked), b = list.indexOf(box);
        if (a >= 0 && b >= 0) {
          list.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (other) { other.checked = box.checked; });
        }
      }
      lastChecked = box;
    } else if (event.target.closest("[data-bulk-all]")) {
      var checked = event.target.checked;
      items(form).forEach(function (other) { other.checked = checked; });
    } else if (event.target.closest("[data-bulk-invert]")) {
      items(form).forEach(function (other) { other.checked = !other.checked; });
    }
    refresh(form);
  });
})();
