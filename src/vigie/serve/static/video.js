// Video page: a click on a track (timeline bar or table row) plays the video from its first frame.
(function () {
  "use strict";
  var player = document.getElementById("player");
  var timeline = document.getElementById("timeline");
  if (!player || !timeline) { return; }
  var starts = JSON.parse(timeline.dataset.starts || "[]");
  var rows = document.querySelectorAll("#tracks tr.track");

  function seek(i) {
    if (i < 0 || i >= starts.length) { return; }
    rows.forEach(function (r) { r.classList.toggle("current", Number(r.dataset.index) === i); });
    player.pause();
    player.currentTime = starts[i];
    player.dataset.track = String(i);
  }
  timeline.querySelectorAll("rect.bar").forEach(function (bar, i) {
    bar.addEventListener("click", function () { seek(i); });
  });
  rows.forEach(function (row) {
    row.addEventListener("click", function () { seek(Number(row.dataset.index)); });
  });
})();
