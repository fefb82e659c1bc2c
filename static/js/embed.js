// Embed mode only (loaded by base.html for an embed session): tell the partner page how tall
// we are, so it can size its iframe. The target origin is the verified parent origin the
// server rendered into <body data-parent-origin>; never "*".
(function () {
  "use strict";
  var parentOrigin = document.body && document.body.getAttribute("data-parent-origin");
  if (!parentOrigin || window.parent === window) return;

  var last = -1;
  function height() {
    // The content's own height (not the viewport's), so the frame can shrink as well as grow.
    var body = document.body, style = window.getComputedStyle(body);
    return Math.ceil(body.getBoundingClientRect().height +
      parseFloat(style.marginTop || 0) + parseFloat(style.marginBottom || 0));
  }
  function post(force) {
    var h = height();
    if (h === last && !force) return;
    last = h;
    window.parent.postMessage({ type: "layers:resize", height: h }, parentOrigin);
  }

  if ("ResizeObserver" in window) {
    new ResizeObserver(function () { post(false); }).observe(document.body);
  }
  // htmx swaps change the layout; ResizeObserver sees most of it, this catches the rest.
  document.addEventListener("htmx:afterSettle", function () { post(false); });
  window.addEventListener("load", function () { post(true); });
  post(true);
})();
