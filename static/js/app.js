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
  // Whether a swap may move the focus: only when the person's focus was in what was swapped
  // (the button they pressed, now gone) or nowhere. A card that updates later on its own (a
  // held decision's window ending) must never pull the focus out of a reason being typed
  // elsewhere: the next letters would act as keys on a card, and "a" approves.
  function focusWasIn(element) {
    var active = document.activeElement;
    return !active || active === document.body || element.contains(active);
  }

  document.addEventListener("keydown", function (event) {
    var card = event.target;
    if (!card || !card.matches || !card.matches("article.action") || event.ctrlKey || event.metaKey || event.altKey) return;
    var all = cards(), index = all.indexOf(card);
    if (event.key === "j") { focusCard(all[index + 1]); event.preventDefault(); }
    else if (event.key === "k") { focusCard(all[index - 1]); event.preventDefault(); }
    else if (event.key === "a") {
      var approve = card.querySelector(".approve-form button");
      if (approve) { approve.click(); event.preventDefault(); }
    } else if (event.key === "r") {
      var reason = card.querySelector(".reject-form input[name=reason]");
      if (reason) { reason.focus(); event.preventDefault(); }
    }
  });

  // Bulk selection: a count and the money exposure of the selection; shift-click selects a
  // range; x on a focused card toggles it. Each box carries its budget change as an integer
  // of its currency's minor unit (data-change), the currency and its exponent (JPY 0, USD 2,
  // BHD 3, from the server's CLDR data): one total per currency, never yen added to dollars.
  // A box may carry its row's locale (the inbox mixes customers): a currency's total is
  // written the way its rows are when they all agree, else in the bar's locale.
  var lastChecked = null;
  function moneyText(minor, currency, exponent, locale) {
    var amount = Math.abs(minor) / Math.pow(10, exponent);
    try {
      return new Intl.NumberFormat(locale || undefined, {
        style: "currency", currency: currency,
        minimumFractionDigits: exponent, maximumFractionDigits: exponent
      }).format(amount);
    } catch (error) {  // a currency code Intl does not know: the number and the code
      return amount.toFixed(exponent) + " " + currency;
    }
  }
  function selectionUpdate() {
    var count = document.getElementById("bulk-count");
    if (!count) return;
    var form = document.getElementById("bulk-form");
    var locale = form && form.dataset.locale;
    var boxes = Array.prototype.slice.call(document.querySelectorAll("input.select:checked"));
    var sums = {}, exponents = {}, locales = {};
    boxes.forEach(function (box) {
      var minor = parseInt(box.dataset.change || "0", 10);
      var currency = box.dataset.currency || "";
      if (!minor || !currency) return;
      sums[currency] = (sums[currency] || 0) + minor;
      exponents[currency] = parseInt(box.dataset.exponent || "2", 10);
      var rowLocale = box.dataset.locale || locale;
      locales[currency] = currency in locales && locales[currency] !== rowLocale ? locale : rowLocale;
    });
    var all = document.getElementById("bulk-select-all");
    var summary = document.getElementById("bulk-all-summary");
    if (all && all.checked) {
      // Select all takes what the server counted (every page, up to the cap), not the boxes.
      var counted = summary && summary.dataset.count;
      count.textContent = counted ? "All " + counted + " matching selected" : "All matching selected (counting…)";
      document.getElementById("bulk-exposure").textContent = (summary && summary.dataset.exposure) || "";
      return;
    }
    count.textContent = boxes.length ? boxes.length + " selected" : "None selected";
    var parts = Object.keys(sums).sort().map(function (currency) {
      var minor = sums[currency];
      return (minor >= 0 ? "+" : "−") + moneyText(minor, currency, exponents[currency], locales[currency]);
    });
    document.getElementById("bulk-exposure").textContent = parts.length ? "Daily budget change of the selection: " + parts.join(", ") : "";
  }
  // Ticking "select all" asks the server what it takes (how many, the cap, the spend), so
  // the bar says it before anyone submits.
  function selectAllPreview(box) {
    var summary = document.getElementById("bulk-all-summary");
    if (!summary) return;
    if (!box.checked) {
      summary.textContent = ""; delete summary.dataset.count; delete summary.dataset.exposure;
      selectionUpdate();
      return;
    }
    summary.textContent = "Counting what select all takes…";
    selectionUpdate();
    fetch(box.dataset.preview, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#bulk-all-summary");
        if (!fresh || !box.checked) return;
        summary.replaceWith(fresh);
        fresh.setAttribute("aria-live", "polite");
        selectionUpdate();
      })
      .catch(function () {
        summary.textContent = "How many select all takes could not be counted just now; the decision still takes every matching action.";
      });
  }
  document.addEventListener("change", function (event) {
    if (event.target.id === "bulk-select-all") selectAllPreview(event.target);
  });
  document.addEventListener("click", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input.select")) return;
    if (event.shiftKey && lastChecked && lastChecked !== box) {
      var all = Array.prototype.slice.call(document.querySelectorAll("input.select"));
      var a = all.indexOf(lastChecked), b = all.indexOf(box);
      all.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (other) { other.checked = box.checked; });
    }
    lastChecked = box;
    selectionUpdate();
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input.select")) selectionUpdate();
  });
  document.addEventListener("keydown", function (event) {
    var card = event.target;
    if (!card.matches || !card.matches("article.action") || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "x") {
      var box = card.querySelector("input.select");
      if (box) { box.checked = !box.checked; selectionUpdate(); event.preventDefault(); }
    } else if (event.key === "o") {
      card.querySelectorAll("details").forEach(function (d) { d.open = !d.open; });
      event.preventDefault();
    }
  });
  document.addEventListener("keydown", function (event) {
    var typing = event.target.matches && event.target.matches("input, textarea, select");
    if (event.key === "?" && !typing) {
      var help = document.getElementById("keyboard-help");
      if (help) { help.hidden = !help.hidden; event.preventDefault(); }
    }
  });

  // The inbox: one line per pending action (tr.ix); its details and forms open under it
  // (tr.ix-detail, fetched by htmx), and a second "Details" or o closes them again.
  // Keys act only while focus is on a line: j / k move, o or Enter open, x select,
  // a approve (opening it first), r jump to the reject reason.
  function inboxLines() { return Array.prototype.slice.call(document.querySelectorAll("tr.ix")); }
  function detailOf(line) {
    var next = line && line.nextElementSibling;
    return next && next.classList.contains("ix-detail") ? next : null;
  }
  function focusLine(line) { if (line) { line.focus(); line.scrollIntoView({ block: "nearest" }); } }
  function lineOpen(line, then) {
    var open = detailOf(line);
    if (open) { if (then) then(open); return; }
    var link = line.querySelector("a.ix-open");
    if (!link) return;
    if (!window.htmx) { window.location.href = link.href; return; }
    window.htmx.ajax("GET", link.getAttribute("href"), { source: link, target: line, swap: "afterend" }).then(function () {
      var opened = detailOf(line);
      if (!opened) return;
      // The promise settles before htmx wires the new forms (20 ms later, in its settle):
      // wire them now, or an approve clicked (a) or a reason sent (r, Enter) at once would
      // post the whole page instead.
      window.htmx.process(opened);
      if (then) then(opened);
    });
  }
  document.addEventListener("htmx:confirm", function (event) {
    var link = event.detail.elt;
    if (!link.matches || !link.matches("a.ix-open") || event.detail.verb !== "get") return;
    var open = detailOf(link.closest("tr.ix"));
    if (open) { event.preventDefault(); open.remove(); }
  });
  document.addEventListener("keydown", function (event) {
    var line = event.target;
    if (!line || !line.matches || !line.matches("tr.ix") || event.ctrlKey || event.metaKey || event.altKey) return;
    var all = inboxLines(), index = all.indexOf(line);
    if (event.key === "j") { focusLine(all[index + 1]); event.preventDefault(); }
    else if (event.key === "k") { focusLine(all[index - 1]); event.preventDefault(); }
    else if (event.key === "o" || event.key === "Enter") {
      var open = detailOf(line);
      if (open) { open.remove(); } else { lineOpen(line); }
      event.preventDefault();
    } else if (event.key === "x") {
      var box = line.querySelector("input.select");
      if (box) { box.checked = !box.checked; selectionUpdate(); event.preventDefault(); }
    } else if (event.key === "a") {
      lineOpen(line, function (detail) {
        var approve = detail.querySelector(".approve-form button");
        if (approve) approve.click();
      });
      event.preventDefault();
    } else if (event.key === "r") {
      lineOpen(line, function (detail) {
        var reason = detail.querySelector(".reject-form input[name=reason]");
        if (reason) reason.focus();
      });
      event.preventDefault();
    }
  });
  // A decision made in a line's details: the line says so, loses its box, and focus goes
  // to the next line still waiting.
  // (After the settle: until then a swapped card with the same id wears the old classes.)
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.target;  // the card as it is now (the event fires on the new one)
    if (!swapped || !swapped.matches || !swapped.matches("article.action") || !swapped.isConnected) return;
    var detail = swapped.closest("tr.ix-detail");
    if (!detail || swapped.classList.contains("status-pending")) return;
    var line = detail.previousElementSibling;
    if (!line || !line.classList.contains("ix")) return;
    line.classList.add("decided");
    var box = line.querySelector("input.select");
    if (box) { box.checked = false; box.remove(); selectionUpdate(); }
    var pill = swapped.querySelector(".status-pill");
    if (pill) {
      var status = pill.textContent.trim();
      line.cells[0].textContent = status === "approved" ? "✓" : status === "rejected" ? "✗" : "•";
      line.cells[0].title = status;
    }
    var rest = inboxLines().slice(inboxLines().indexOf(line) + 1).filter(function (l) { return !l.classList.contains("decided"); });
    if (rest[0] && focusWasIn(detail)) focusLine(rest[0]);
  });

  // New campaign: the amount's placeholder follows the chosen account's currency.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("#c-account")) return;
    var option = select.options[select.selectedIndex], input = document.getElementById("c-budget");
    if (input && option && option.dataset.example) input.placeholder = "for example " + option.dataset.example;
  });

  // One-click reject reasons: one <template> on the page, copied into each reject form
  // (rows rendered later by htmx too), instead of repeating them in every row's HTML.
  function quickReasonsFill(root) {
    var template = document.getElementById("quick-reasons");
    if (!template || !root.querySelectorAll) return;
    root.querySelectorAll(".reject-form .quick-reasons:empty").forEach(function (slot) {
      slot.appendChild(template.content.cloneNode(true));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { quickReasonsFill(document); });
  document.addEventListener("htmx:load", function (event) { quickReasonsFill(event.detail.elt.parentNode || document); });

  // Live queue: every 5 s while the tab is visible, ask whether anything is new. Most
  // answers are an empty 204 (nothing changed that a write or a webhook told us of); every
  // sixth poll looks upstream regardless. The answer is a small notice, never a swap of
  // the list, so an open reason form or the selection is never thrown away.
  var polls = 0;
  setInterval(function () {
    var fresh = document.getElementById("queue-fresh");
    if (!fresh || document.hidden || !window.htmx) return;
    polls += 1;
    fresh.setAttribute("hx-vals", JSON.stringify(polls % 6 === 0 ? { full: "1" } : {}));
    window.htmx.trigger(fresh, "queue-poll");
  }, 5000);

  // After a decision re-renders a card, keep the reviewer moving: focus the next pending one.
  // After the settle, as for the inbox's lines: until then the new card wears the old classes
  // (still status-pending), and the focus stayed on the card just decided.
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.target;  // the card as it is now
    if (!swapped || !swapped.matches || !swapped.matches("article.action") || !swapped.isConnected) return;
    if (swapped.closest("tr.ix-detail") || !focusWasIn(swapped)) return;  // the inbox's: above
    if (swapped.classList.contains("status-pending")) { swapped.focus(); return; }
    var all = cards(), index = all.indexOf(swapped);
    var next = all.slice(index + 1).concat(all.slice(0, index)).filter(function (c) {
      return c.classList.contains("status-pending");
    })[0];
    focusCard(next || swapped);
  });
  // A held decision counts down to its send ("sending in 8 s"); the server holds the truth
  // and the row asks it what happened when the window ends.
  setInterval(function () {
    document.querySelectorAll(".countdown[data-seconds]").forEach(function (el) {
      if (!el.dataset.deadline) el.dataset.deadline = String(Date.now() + Number(el.dataset.seconds) * 1000);
      var left = Math.max(0, Math.ceil((Number(el.dataset.deadline) - Date.now()) / 1000));
      el.textContent = left ? "sending in " + left + " s" : "sending now";
    });
  }, 250);
})();
