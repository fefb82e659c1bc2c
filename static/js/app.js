// The little JavaScript we own. htmx does the rest.
(function () {
  "use strict";
  // After an htmx swap, move focus to a swapped element that asks for it (keyboard users).
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.elt && event.detail.elt.querySelector && event.detail.elt.querySelector("[data-autofocus]");
    if (target) target.focus();
  });
  // Upstream or network trouble on an htmx request: say so instead of doing nothing.
  document.addEventListener("htmx:sendError", function () {
    var region = document.getElementById("messages");
    if (region) {
      var p = document.createElement("p");
      p.className = "message message-error";
      p.textContent = "The dashboard could not be reached. Check your connection and try again.";
      region.appendChild(p);
    }
  });
})();
