// Box overlays whose image size the catalog does not know: take it from the decoded image.
(function () {
  "use strict";
  document.querySelectorAll("svg.boxes[data-auto]").forEach(function (svg) {
    var img = svg.parentNode.querySelector("img");
    function fit() {
      if (img.naturalWidth > 0) {
        svg.setAttribute("viewBox", "0 0 " + img.naturalWidth + " " + img.naturalHeight);
      }
    }
    if (img.complete) { fit(); } else { img.addEventListener("load", fit); }
  });
  // On an image's page, a row of the box table highlights its box.
  document.querySelectorAll("tr[data-box]").forEach(function (row) {
    var box = document.querySelector("rect[data-box='" + row.dataset.box + "']");
    if (!box) { return; }
    row.addEventListener("mouseenter", function () { box.classList.add("hl"); });
    row.addEventListener("mouseleave", function () { box.classList.remove("hl"); });
  });
})();
