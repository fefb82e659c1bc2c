// The demo partner portal's side of the height messages (what a partner would write):
// accept a message only from the dashboard's origin AND from our own iframe's window.
(function () {
  "use strict";
  var frame = document.getElementById("dashboard-frame");
  var output = document.getElementById("last-message");
  if (!frame) return;
  var dashboardOrigin = frame.getAttribute("data-dashboard-origin");

  // The dashboard's embed session ended (it signs people out after a while): our backend
  // mints a fresh token for the page the person was on. At most once a minute, so a
  // misconfigured portal cannot reload forever.
  function renew(data) {
    if (output) output.textContent = JSON.stringify({ type: data.type, next: data.next });
    var last = Number(window.sessionStorage.getItem("layers-renewed") || 0);
    if (Date.now() - last < 60000) return;
    window.sessionStorage.setItem("layers-renewed", String(Date.now()));
    var query = new URLSearchParams(window.location.search);
    if (typeof data.next === "string" && data.next.charAt(0) === "/") query.set("next", data.next);
    query.set("variant", "good");
    window.location.search = query.toString();
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== dashboardOrigin || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (data && data.type === "layers:session-ended") return renew(data);
    if (!data || data.type !== "layers:resize" || typeof data.height !== "number") return;
    var height = Math.max(120, Math.min(Math.round(data.height), 20000));
    frame.style.height = height + "px";
    if (output) output.textContent = JSON.stringify({ type: data.type, height: data.height });
    frame.setAttribute("data-height", String(height));
  });
})();
