// Connecting an ad account from inside a partner's iframe. Platform consent pages refuse
// to be framed, so there the consent page opens in a popup; the popup's last page posts the
// result back to us (same origin only) and closes. When the popup cannot reach its opener
// (an opener policy cut the link), this page polls the server for the result instead.
// Outside an iframe nothing here runs: the form posts and the browser follows redirects.
(function () {
  "use strict";
  var MESSAGE = "layers:account-connect";

  // 1. In the popup, on the callback's result page: tell the opener, then close.
  var result = document.querySelector("[data-connect-result]");
  if (result) {
    var opener = null;
    try { opener = window.opener; } catch (e) { opener = null; }
    if (opener && !opener.closed) {
      opener.postMessage({
        type: MESSAGE,
        code: result.getAttribute("data-connect-result"),
        ok: result.getAttribute("data-ok") === "1",
        accountId: result.getAttribute("data-account-id") || "",
        platform: result.getAttribute("data-platform") || ""
      }, window.location.origin);
      window.setTimeout(function () { window.close(); }, 300);
    }
    return;
  }

  // 2. On the accounts page inside an iframe: open the consent page in a popup.
  var form = document.getElementById("connect-form");
  if (!form || window.self === window.top) return;
  var popup = null, timer = null, done = false;
  var accountsUrl = window.location.pathname;

  function finish(next) {
    if (done) return;
    done = true;
    if (timer) window.clearInterval(timer);
    window.location.assign(next);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin) return;  // same origin only
    var data = event.data || {};
    if (data.type !== MESSAGE) return;
    if (data.ok && /^[A-Za-z0-9_-]{1,80}$/.test(data.accountId || "")) {
      finish(accountsUrl + "?connected=" + encodeURIComponent(data.accountId));
    } else {
      finish(accountsUrl + "?result=" + encodeURIComponent(data.code || "error") +
             "&platform=" + encodeURIComponent(data.platform || ""));
    }
  });

  function poll() {
    var request = new XMLHttpRequest();
    request.open("GET", form.getAttribute("data-status-url"));
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status !== 200) return;
      try {
        var answer = JSON.parse(request.responseText);
        if (answer.done && typeof answer.next === "string" && answer.next.charAt(0) === "/") finish(answer.next);
      } catch (e) { /* keep polling */ }
    };
    request.send();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var platform = form.querySelector("select[name=platform]").value;
    var url = form.getAttribute("data-popup-url") + "&platform=" + encodeURIComponent(platform);
    popup = window.open(url, "layers-connect", "popup,width=560,height=720");
    var waiting = document.getElementById("connect-waiting");
    if (waiting) waiting.hidden = false;
    if (!timer) timer = window.setInterval(poll, 2000);
  });
})();
