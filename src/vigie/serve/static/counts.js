// Counts page: time-range presets and zoom in/out around the middle of the current range.
(function () {
  "use strict";
  var form = document.getElementById("range");
  if (!form) { return; }
  var since = form.elements.since, until = form.elements.until;

  function parse(text) { return text ? new Date(text.length <= 19 ? text + "Z" : text) : null; }
  function local(date) { return date.toISOString().slice(0, 19); }  // UTC, as the inputs mean it

  function go(from, to) {
    since.value = local(from);
    until.value = local(to);
    form.submit();
  }
  form.querySelectorAll("button[data-span]").forEach(function (b) {
    b.addEventListener("click", function () {
      var last = parse(form.dataset.last) || new Date();
      go(new Date(last.getTime() - 1000 * parseFloat(b.dataset.span)), last);
    });
  });
  form.querySelectorAll("button[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      var from = parse(since.value) || parse(form.dataset.first);
      var to = parse(until.value) || parse(form.dataset.last);
      if (!from || !to) { return; }
      var mid = (from.getTime() + to.getTime()) / 2;
      var half = Math.max(1000, (to.getTime() - from.getTime()) / 2 * parseFloat(b.dataset.zoom));
      go(new Date(mid - half), new Date(mid + half));
    });
  });
})();
