// While an import is being read: ask for its progress every second, move the bar, and show the
// preview when the reading is done. Without JavaScript the page has an "Update now" link.
(function () {
  "use strict";
  var bar = document.querySelector("progress[data-progress-url]");
  if (!bar) {
    return;
  }
  var status = document.getElementById("import-status");
  function poll() {
    fetch(bar.getAttribute("data-progress-url"), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        bar.max = Math.max(data.total, 1);
        bar.value = data.read;
        status.textContent = data.text;
        if (data.state !== "reading") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }
  window.setTimeout(poll, 1000);
})();
