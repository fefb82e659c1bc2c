// The "session ended" page inside a partner's iframe: tell the portal, so it can mint a fresh
// embed token for the page the person was on ({type: "layers:session-ended", next: "/projects/…"}).
// Only allowed portal origins can frame this page; the message goes to the parent's exact
// origin when the browser tells us which it is, else to each allowed origin (a postMessage
// to an origin that is not the parent's is dropped by the browser). Never "*".
(function () {
  "use strict";
  var card = document.getElementById("embed-ended");
  if (!card || window.parent === window) return;
  var allowed = (card.getAttribute("data-parent-origins") || "").split(" ").filter(Boolean);
  var message = { type: "layers:session-ended", next: card.getAttribute("data-next") || "" };
  var ancestors = window.location.ancestorOrigins;
  var targets = ancestors && ancestors.length ? [ancestors[0]].filter(function (o) { return allowed.indexOf(o) >= 0; }) : allowed;
  var height = Math.ceil(document.body.getBoundingClientRect().height);
  targets.forEach(function (origin) {
    try {
      window.parent.postMessage({ type: "layers:resize", height: height }, origin);  // shrink the frame
      window.parent.postMessage(message, origin);
    } catch (e) { /* not the parent: dropped */ }
  });
})();
