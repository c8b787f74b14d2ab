// rlbook: give multi-panel figures the full page width (see rlbook.css).
// A cell output whose image is wider than the text column gets the class
// rlbook-wide-figure: it takes the width of the text column plus the right-hand
// margin, over the page's table of contents, as the theme's `full-width` tag does.
(function () {
  function widen() {
    document.querySelectorAll("div.cell div.cell_output img").forEach(function (img) {
      var out = img.closest("div.cell_output");
      if (!out || out.classList.contains("rlbook-wide-figure")) return;
      var column = out.clientWidth;
      if (img.naturalWidth > column * 1.05) out.classList.add("rlbook-wide-figure");
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
