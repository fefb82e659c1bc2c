// The little JavaScript we own. htmx does the rest; every page works without this file.
(function () {
  "use strict";

  function messagesSay(text) {
    var region = document.getElementById("messages");
    if (!region) return;
    var p = document.createElement("p");
    p.className = "message message-error";
    p.textContent = text;
    region.appendChild(p);
  }

  // Network trouble on an htmx request: say so instead of doing nothing.
  document.addEventListener("htmx:sendError", function () {
    messagesSay("The dashboard could not be reached. Check your connection and try again.");
  });
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 403) {
      messagesSay("You are not allowed to do that on this project.");
    } else {
      messagesSay("Something went wrong on our side. Reload the page and try again.");
    }
  });

  // The queue from the keyboard, like a good mail client. Keys act only while focus is on
  // an action card (never while typing), so they cannot fire by accident:
  // j / k next / previous action, a approve, r jump to the reject reason.
  function cards() { return Array.prototype.slice.call(document.querySelectorAll("article.action")); }
  function focusCard(card) { if (card) { card.focus(); card.scrollIntoView({ block: "nearest" }); } }

  document.addEventListener("keydown", function (event) {
    var card = event.target;
    if (!card || !card.matches || !card.matches("article.action") || event.ctrlKey || event.metaKey || event.altKey) return;
    var all = cards(), index = all.indexOf(card);
    if (event.key === "j") { focusCard(all[index + 1]); event.preventDefault(); }
    else if (event.key === "k") { focusCard(all[index - 1]); event.preventDefault(); }
    else if (event.key === "a") {
      var approve = card.querySelector(".approve-form button[type=submit]");
      if (approve) { approve.click(); event.preventDefault(); }
    } else if (event.key === "r") {
      var reason = card.querySelector(".reject-form input[name=reason]");
      if (reason) { reason.focus(); event.preventDefault(); }
    }
  });

  // After a decision re-renders a card, keep the reviewer moving: focus the next pending one.
  document.addEventListener("htmx:afterSwap", function (event) {
    var card = event.detail.target;
    if (!card || !card.matches || !card.matches("article.action")) return;
    var swapped = document.getElementById(card.id) || card;
    if (swapped.classList.contains("status-pending")) { swapped.focus(); return; }
    var all = cards(), index = all.indexOf(swapped);
    var next = all.slice(index + 1).concat(all.slice(0, index)).filter(function (c) {
      return c.classList.contains("status-pending");
    })[0];
    focusCard(next || swapped);
  });
})();
