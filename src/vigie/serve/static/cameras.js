// Cameras page: ask /api/cameras every few seconds; re-render a camera's card when it changed.
(function () {
  "use strict";
  var root = document.getElementById("cameras");
  var live = document.getElementById("live");
  if (!root) { return; }
  var every = Math.max(1, parseFloat(root.dataset.refresh || "3")) * 1000;

  function refreshCard(cam) {
    var card = document.getElementById("camera-" + cam.id);
    if (!card) { return Promise.resolve(true); }
    if (card.dataset.version === cam.version) { return Promise.resolve(false); }
    return fetch("/cameras/" + cam.id + "/card", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) { card.outerHTML = html; }
        return false;
      });
  }

  function tick() {
    fetch("/api/cameras", {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) {
        var known = root.querySelectorAll("article.camera").length;
        if (data.cameras.length !== known) { window.location.reload(); return null; }
        return Promise.all(data.cameras.map(refreshCard)).then(function () {
          live.textContent = "live: updated " + new Date().toLocaleTimeString();
          live.classList.remove("error");
        });
      })
      .catch(function (err) {
        live.textContent = "live: " + err.message + ", retrying";
        live.classList.add("error");
      })
      .then(function () { window.setTimeout(tick, every); });
  }
  window.setTimeout(tick, every);
})();
