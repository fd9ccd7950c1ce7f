// While an event's calendar mail is being queued: ask how far it has come every second, move
// the bar, and show the page again when it is done. Without JavaScript the page has an
// "Update now" link. (The same pattern as import-progress.js.)
(function () {
  "use strict";
  var bar = document.querySelector("progress[data-progress-url]");
  if (!bar) {
    return;
  }
  var status = document.getElementById("mailing-status");
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
        bar.value = data.done;
        status.textContent = data.text;
        if (data.state === "done" || data.state === "none") {
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
