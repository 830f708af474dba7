// Patterns page: while a mining run is queued or running, poll its status and show progress.
(function () {
  "use strict";
  var panel = document.querySelector(".run-panel");
  if (!panel || panel.getAttribute("data-active") !== "true") { return; }
  var url = panel.getAttribute("data-status-url");
  var statusText = document.getElementById("run-status");
  var bar = document.getElementById("run-progress");
  var reload = panel.querySelector(".run-reload");

  function show(state) {
    if (state.active) {
      var text = "Run " + state.id + " is " + state.status + (state.stage ? ": " + state.stage : "");
      if (state.total) { text += " (" + state.done + " of " + state.total + ")"; }
      statusText.textContent = text + ".";
      bar.hidden = false;
      bar.max = state.total || 1;
      bar.value = state.done || 0;
      window.setTimeout(poll, 2000);
    } else {
      statusText.textContent = "Run " + state.id + " " + state.status +
        (state.status === "finished" ? ": " + state.patterns_found + " patterns." : ".");
      bar.hidden = true;
      if (reload) { reload.hidden = false; }
    }
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) { if (state) { show(state); } })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  window.setTimeout(poll, 1500);
})();

// Patterns list and a pattern's page: while their figures are computed, ask whether they are stored; then reload.
(function () {
  "use strict";
  var notice = document.querySelector(".figures-computing[data-status-url]");
  if (!notice) { return; }
  var url = notice.getAttribute("data-status-url");
  var delay = 500;

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state && state.ready) {
          window.location.reload();
          return;
        }
        delay = Math.min(delay * 1.5, 3000);  // a long computation is asked about less and less often
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  window.setTimeout(poll, delay);
})();
