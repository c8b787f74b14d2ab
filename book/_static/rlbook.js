// rlbook: give multi-panel figures the full page width (see rlbook.css).
// A cell whose output image is wider than the text column gets the class
// rlbook-wide-figure, the same layout as the theme's `full-width` cell tag.
(function () {
  function widen() {
    document.querySelectorAll("div.cell div.cell_output img").forEach(function (img) {
      var cell = img.closest("div.cell");
      if (!cell || cell.classList.contains("rlbook-wide-figure")) return;
      var column = cell.parentElement ? cell.parentElement.clientWidth : 0;
      if (img.naturalWidth > column * 1.05) cell.classList.add("rlbook-wide-figure");
    });
  }
  function whenLoaded() {
    document.querySelectorAll("div.cell div.cell_output img").forEach(function (img) {
      if (!img.complete) img.addEventListener("load", widen, { once: true });
    });
    widen();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", whenLoaded);
  } else {
    whenLoaded();
  }
})();
