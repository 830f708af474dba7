/* Ask page: while the question is typed, show similar threads the asker may see and a matching playbook.
   Debounced; our own JSON endpoint; text is only ever set with textContent. Without JavaScript the ask form
   works as before, just without suggestions. */
(function () {
  "use strict";

  var panel = document.getElementById("suggest-panel");
  var form = panel && panel.closest("form");
  var title = document.getElementById("title");
  var body = document.getElementById("body");
  if (!panel || !form || !title || !window.fetch || !window.JSON) { return; }

  var similarUrl = panel.getAttribute("data-similar-url");
  var eventUrl = panel.getAttribute("data-event-url");
  var STORE = "groundwork-draft-key";
  var timer = null, lastSent = null, controller = null;

  function csrfToken() {
    var input = form.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function newDraftKey() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // One key per visit; a form sent back with errors keeps the key of the visit it came from.
  var draftKey = null;
  try {
    if (form.querySelector(".has-error")) { draftKey = window.sessionStorage.getItem(STORE); }
  } catch (e) { draftKey = null; }
  if (!draftKey || !/^[a-f0-9]{32}$/.test(draftKey)) { draftKey = newDraftKey(); }
  var hidden = document.createElement("input");
  hidden.type = "hidden";
  hidden.name = "draft_key";
  hidden.value = draftKey;
  form.appendChild(hidden);
  form.addEventListener("submit", function () {
    try { window.sessionStorage.setItem(STORE, draftKey); } catch (e) { /* private mode: no carry-over */ }
  });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }

  function track(kind, id) {
    if (!eventUrl) { return; }
    var data = new FormData();
    data.append("csrf_token", csrfToken());
    data.append("draft_key", draftKey);
    data.append("kind", "click");
    data.append(kind, String(id));
    // A beacon survives the page being left; fetch with keepalive is the fallback.
    if (navigator.sendBeacon && navigator.sendBeacon(eventUrl, data)) { return; }
    fetch(eventUrl, {method: "POST", body: data, credentials: "same-origin", keepalive: true}).catch(function () {});
  }

  function link(item, kind) {
    var a = el("a", "suggest-link", item.title);
    a.href = item.url;
    a.target = "_blank";  // a new tab keeps the draft
    a.rel = "noopener";
    var opened = function () { track(kind, item.id); };
    a.addEventListener("click", opened);
    a.addEventListener("auxclick", function (event) { if (event.button === 1) { opened(); } });
    return a;
  }

  function render(data) {
    panel.textContent = "";
    var threads = data.threads || [];
    if (!threads.length && !data.playbook) { panel.hidden = true; return; }
    panel.appendChild(el("h2", "suggest-title", "Before you post: these may already answer it"));
    if (data.playbook) {
      var box = el("p", "suggest-playbook");
      box.appendChild(el("span", "badge badge-resolved", "Playbook"));
      box.appendChild(document.createTextNode(" "));
      box.appendChild(link(data.playbook, "playbook_id"));
      var n = data.playbook.replications;
      if (n) { box.appendChild(el("span", "muted", " — worked at " + n + " deployment" + (n === 1 ? "" : "s"))); }
      panel.appendChild(box);
    }
    if (threads.length) {
      var list = el("ul", "suggest-list");
      threads.forEach(function (item) {
        var li = el("li");
        li.appendChild(link(item, "thread_id"));
        if (item.resolved) {
          li.appendChild(document.createTextNode(" "));
          li.appendChild(el("span", "badge badge-resolved", "Resolved"));
        }
        if (item.snippet) { li.appendChild(el("p", "snippet muted", "Accepted answer: " + item.snippet)); }
        list.appendChild(li);
      });
      panel.appendChild(list);
    }
    panel.hidden = false;
  }

  function lookup() {
    var text = {title: title.value.trim(), body: body ? body.value.trim() : ""};
    var key = text.title + "\n" + text.body;
    if (key === lastSent) { return; }
    lastSent = key;
    if ((text.title + text.body).length < 10) { render({}); return; }
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    fetch(similarUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify({title: text.title, body: text.body.slice(0, 4000), draft_key: draftKey}),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data) { render(data); }
    }).catch(function () { /* suggestions are a help, never in the way */ });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(lookup, 600);
  }

  title.addEventListener("input", schedule);
  if (body) { body.addEventListener("input", schedule); }
  if (title.value.trim()) { schedule(); }
}());
