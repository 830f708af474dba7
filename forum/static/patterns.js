// Patterns page: while a mining run holds the lease (queued, running or stuck), poll its state; show the server's
// status text, the progress and whether "Mine now" is available.
(function () {
  "use strict";
  var panel = document.querySelector(".run-panel");
  if (!panel || panel.getAttribute("data-active") !== "true") { return; }
  var url = panel.getAttribute("data-status-url");
  var statusText = document.getElementById("run-status");
  var bar = document.getElementById("run-progress");
  var button = document.getElementById("mine-now");
  var reload = panel.querySelector(".run-reload");
  var STATES = ["none", "queued", "stuck", "running", "finished", "failed", "interrupted"];

  function show(state) {
    statusText.innerHTML = state.html;  // rendered and escaped by the server (patterns/_run_status.html)
    STATES.forEach(function (name) { panel.classList.remove("run-" + name); });  // not .run-panel itself
    panel.classList.add("run-" + state.state);
    if (button) {
      button.disabled = state.active;
      if (!state.active) { button.removeAttribute("title"); }
    }
    var counting = state.state === "running" && state.total;
    bar.hidden = !counting;
    if (counting) {
      bar.max = state.total;
      bar.value = state.done || 0;
    }
    if (state.active) {
      window.setTimeout(poll, 2000);
    } else if (state.state === "finished" && reload) {
      reload.hidden = false;
    }
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) { if (state) { show(state); } else { window.setTimeout(poll, 5000); } })
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
