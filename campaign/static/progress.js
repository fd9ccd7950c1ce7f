// While work goes on in the background (an import being read, a meeting's mail being queued):
// ask how far it has come every second, move the bar, and show the page again when it is done.
// The bar names its JSON address (data-progress-url) and its sentence (data-status, an id).
// Without JavaScript the page has an "Update now" link.
(function () {
  "use strict";
  var bar = document.querySelector("progress[data-progress-url]");
  if (!bar) {
    return;
  }
  var status = document.getElementById(bar.getAttribute("data-status"));
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
        if (status) {
          status.textContent = data.text;
        }
        if (data.finished) {
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
