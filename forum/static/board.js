/* Board: live Markdown preview, the space's default visibility on the ask form, confirm-before-remove.
   No dependencies; everything degrades to plain forms without JavaScript. */
(function () {
  "use strict";

  function csrfToken(el) {
    var form = el.closest("form");
    var input = (form && form.querySelector("input[name=csrf_token]")) || document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function setupPreview(box) {
    var textarea = document.getElementById(box.getAttribute("data-preview-for"));
    var target = box.querySelector(".preview");
    var url = box.getAttribute("data-preview-url");
    if (!textarea || !target || !url || !window.fetch) { return; }
    box.hidden = false;
    var timer = null, sent = null, controller = null;

    function render() {
      var text = textarea.value;
      if (text === sent) { return; }
      sent = text;
      if (!text.trim()) { target.textContent = ""; return; }
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken(textarea)},
        body: JSON.stringify({body: text}),
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (result) {
        if (result.ok) {
          // The server returns HTML sanitised exactly as a stored post would be.
          target.innerHTML = result.data.html;
        } else {
          target.textContent = (result.data.error && result.data.error.message) || "Preview unavailable.";
        }
      }).catch(function (err) {
        if (err && err.name === "AbortError") { return; }
        target.textContent = "Preview unavailable.";
      });
    }

    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(render, 400);
    });
    if (textarea.value.trim()) { render(); }
  }

  function setupSpaceVisibility() {
    var space = document.getElementById("space");
    var visibility = document.getElementById("visibility");
    var list = document.getElementById("space-visibilities");
    if (!space || !visibility || !list) { return; }
    space.addEventListener("change", function () {
      var item = list.querySelector('[data-space="' + space.value + '"]');
      if (!item) { return; }
      var wanted = item.getAttribute("data-visibility");
      for (var i = 0; i < visibility.options.length; i++) {
        if (visibility.options[i].value === wanted) { visibility.value = wanted; break; }
      }
    });
  }

  function setupConfirmButtons() {
    document.querySelectorAll("[data-confirm]").forEach(function (button) {
      var form = button.closest("form");
      if (!form) { return; }
      form.addEventListener("submit", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  document.querySelectorAll("details[data-preview-for]").forEach(setupPreview);
  setupSpaceVisibility();
  setupConfirmButtons();
}());
