// The sequence editor's preview, kept up to date while one types: a second after the last key
// press, the form is sent as its Preview button sends it and the page's preview section is
// swapped for the one in the answer. Nothing is saved. Without JavaScript the Preview button
// does the same with a page load.
(function () {
  "use strict";
  var form = document.querySelector("form.step-form");
  var section = document.querySelector("section.step-preview");
  if (!form || !section || !window.fetch || !window.DOMParser) {
    return;
  }
  var timer = null;
  var leaving = false;
  function refresh() {
    var data = new FormData(form);
    data.set("action", "preview");
    section.setAttribute("aria-busy", "true");
    fetch(form.getAttribute("action") || window.location.href, {
      method: "POST",
      body: data,
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        var fresh = html && new DOMParser().parseFromString(html, "text/html");
        var found = fresh && fresh.querySelector("section.step-preview");
        if (found && !leaving) {
          section.replaceWith(found);
          section = found;
        }
      })
      .catch(function () {})
      .then(function () {
        section.removeAttribute("aria-busy");
      });
  }
  form.addEventListener("input", function (event) {
    if (!/^(subject|body)_/.test(event.target.name || "")) {
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 1000);
  });
  form.addEventListener("submit", function () {
    leaving = true;
    window.clearTimeout(timer);
  });
})();
