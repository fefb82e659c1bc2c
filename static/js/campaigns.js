// Campaign pages: with htmx on, an authority change saves itself (see _authority.html), so
// the "Save authority" buttons are only for pages without JavaScript.
(function () {
  "use strict";
  document.documentElement.classList.add("js-authority");
})();
