// The demo partner portal's side of the height messages (what a partner would write):
// accept a message only from the dashboard's origin AND from our own iframe's window.
(function () {
  "use strict";
  var frame = document.getElementById("dashboard-frame");
  var output = document.getElementById("last-message");
  if (!frame) return;
  var dashboardOrigin = frame.getAttribute("data-dashboard-origin");

  window.addEventListener("message", function (event) {
    if (event.origin !== dashboardOrigin || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || data.type !== "layers:resize" || typeof data.height !== "number") return;
    var height = Math.max(120, Math.min(Math.round(data.height), 20000));
    frame.style.height = height + "px";
    if (output) output.textContent = JSON.stringify({ type: data.type, height: data.height });
    frame.setAttribute("data-height", String(height));
  });
})();
