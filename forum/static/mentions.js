/* @mention autocomplete for a composer textarea with data-mention-url: typing "@pa" lists the members who can
   read the thread (the server decides who), arrows or the mouse pick one, Enter or Tab inserts "@username ".
   No dependencies; without JavaScript the textarea is a plain textarea. */
(function () {
  "use strict";

  // The "@name" being typed just before the caret (the same shape the server recognises as a mention).
  var TYPING = /(^|[^\w@.\/+-])@([A-Za-z0-9][A-Za-z0-9_.-]{0,119})$/;
  var count = 0;

  function setup(textarea) {
    var url = textarea.getAttribute("data-mention-url");
    if (!url || !window.fetch) { return; }
    count += 1;
    var list = document.createElement("ul");
    list.id = "mention-list-" + count;
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Members who can read this thread");
    list.hidden = true;
    textarea.parentNode.insertBefore(list, textarea.nextSibling);
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", list.id);

    var members = [], active = -1, typed = null, timer = null, controller = null;

    function close() {
      list.hidden = true;
      list.textContent = "";
      members = [];
      active = -1;
      textarea.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var items = list.children;
      for (var i = 0; i < items.length; i += 1) { items[i].setAttribute("aria-selected", i === index ? "true" : "false"); }
      active = index;
      if (index >= 0) { textarea.setAttribute("aria-activedescendant", items[index].id); }
    }

    function show(found) {
      list.textContent = "";
      members = found;
      if (!found.length) { close(); return; }
      found.forEach(function (member, i) {
        var item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        var name = document.createElement("span");
        name.className = "mention-name";
        name.textContent = member.display_name;
        var detail = document.createElement("span");
        detail.className = "muted";
        detail.textContent = " @" + member.username + " · " + member.organisation;
        item.appendChild(name);
        item.appendChild(detail);
        // mousedown, not click: the textarea keeps its focus and caret.
        item.addEventListener("mousedown", function (event) { event.preventDefault(); insert(i); });
        list.appendChild(item);
      });
      list.hidden = false;
      highlight(0);
    }

    function insert(index) {
      if (!typed || !members[index]) { return; }
      var text = textarea.value;
      var replacement = "@" + members[index].username + " ";
      textarea.value = text.slice(0, typed.start) + replacement + text.slice(typed.end);
      var caret = typed.start + replacement.length;
      textarea.setSelectionRange(caret, caret);
      textarea.dispatchEvent(new Event("input", {bubbles: true}));  // the preview follows
      close();
    }

    function lookup() {
      var caret = textarea.selectionStart;
      var match = textarea.selectionEnd === caret ? TYPING.exec(textarea.value.slice(0, caret)) : null;
      if (!match) { typed = null; close(); return; }
      typed = {start: caret - match[2].length - 1, end: caret};
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      var asked = match[2];
      fetch(url + "?q=" + encodeURIComponent(asked), {
        credentials: "same-origin",
        headers: {"Accept": "application/json"},
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.ok ? response.json() : {members: []};
      }).then(function (data) {
        if (typed && textarea.value.slice(typed.start + 1, typed.end) === asked) { show(data.members || []); }
      }).catch(function (err) {
        if (!err || err.name !== "AbortError") { close(); }
      });
    }

    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookup, 150);
    });
    textarea.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + members.length) % members.length);
      } else if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        insert(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    textarea.addEventListener("blur", function () { window.setTimeout(close, 100); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-mention-url]"), setup);
  });
}());
