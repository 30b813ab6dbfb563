// Kazi's few behaviours that need a script; served as a file so the CSP can forbid inline code.
// Nothing here reads customer text as HTML: values go through textContent only.
(function () {
  "use strict";

  function span(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
    return Math.floor(seconds / 86400) + " d " + Math.floor((seconds % 86400) / 3600) + " h";
  }

  function tickCountdowns() {
    document.querySelectorAll(".countdown[data-until]").forEach(function (el) {
      var until = Date.parse(el.getAttribute("data-until"));
      if (!isNaN(until)) el.textContent = span((until - Date.now()) / 1000);
    });
  }

  function previewTemplate(form) {
    var preview = form.querySelector(".preview[data-template-body]");
    if (!preview) return;
    var text = preview.getAttribute("data-template-body");
    form.querySelectorAll("input[data-position]").forEach(function (input) {
      var mark = "{{" + input.getAttribute("data-position") + "}}";
      text = text.split(mark).join(input.value || mark);
    });
    preview.textContent = text;
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  // --- Keyboard shortcuts ------------------------------------------------------------
  // Never while typing (Esc leaves the field), never with a modifier, never from inside
  // customer content (anything under hx-disable).
  var QUEUE_KEY = "kazi.queue";

  function rememberedQueue() {
    try { return window.sessionStorage.getItem(QUEUE_KEY) || "mine"; } catch (e) { return "mine"; }
  }

  function rememberQueue() {
    var current = document.querySelector(".queues a.current[data-queue]");
    if (!current) return;
    try { window.sessionStorage.setItem(QUEUE_KEY, current.getAttribute("data-queue")); } catch (e) { /* private mode */ }
  }

  function queueRows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.conversations tbody tr"));
  }

  // j / k: in a queue, move the highlighted row; on a conversation, go to its neighbour
  // in the queue the agent came from; anywhere else, the next conversation to work.
  function step(forwards) {
    var rows = queueRows();
    if (rows.length) {
      var at = rows.findIndex(function (row) { return row.classList.contains("selected"); });
      var next = at < 0 ? (forwards ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, at + (forwards ? 1 : -1)));
      rows.forEach(function (row) { row.classList.remove("selected"); row.removeAttribute("aria-selected"); });
      rows[next].classList.add("selected");
      rows[next].setAttribute("aria-selected", "true");
      rows[next].scrollIntoView({ block: "nearest" });
      return;
    }
    var page = document.querySelector(".conversation-page[data-conversation]");
    if (page) {
      var url = "/inbox/c/" + page.getAttribute("data-conversation") + "/next?queue=" + encodeURIComponent(rememberedQueue());
      window.location.assign(forwards ? url : url + "&back=true");
      return;
    }
    if (forwards) window.location.assign("/inbox/next");
  }

  function openSelected() {
    var row = document.querySelector("table.conversations tbody tr.selected");
    var link = row && row.querySelector("a.conversation-link");
    if (!link) return false;
    window.location.assign(link.getAttribute("href"));
    return true;
  }

  function focusById(id) {
    var el = document.getElementById(id);
    if (!el) return;
    el.scrollIntoView({ block: "center" });
    el.focus();
  }

  var HELP = [
    ["j / k", "next / previous conversation (in a queue: move, then Enter to open)"],
    ["r", "write a reply"],
    ["n", "write an internal note"],
    ["a", "assign or transfer"],
    ["c", "claim the conversation"],
    ["/", "search (in the reply box: quick replies)"],
    ["?", "show or hide this help"],
    ["Esc", "leave a text field, close this help"],
  ];

  function toggleHelp() {
    var open = document.getElementById("shortcut-help");
    if (open) { open.remove(); return; }
    var box = document.createElement("div");
    box.id = "shortcut-help";
    box.className = "shortcut-help";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", "Keyboard shortcuts");
    box.tabIndex = -1;
    var title = document.createElement("h2");
    title.textContent = "Keyboard shortcuts";
    box.appendChild(title);
    var list = document.createElement("dl");
    HELP.forEach(function (item) {
      var key = document.createElement("dt");
      var kbd = document.createElement("kbd");
      kbd.textContent = item[0];
      key.appendChild(kbd);
      var what = document.createElement("dd");
      what.textContent = item[1];
      list.appendChild(key);
      list.appendChild(what);
    });
    box.appendChild(list);
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    close.addEventListener("click", function () { box.remove(); });
    box.appendChild(close);
    document.body.appendChild(box);
    box.focus();
  }

  var shortcuts = {
    j: function () { step(true); },
    k: function () { step(false); },
    r: function () { focusById("reply-body"); },
    n: function () { focusById("note-body"); },
    a: function () { focusById("assignee"); },
    c: function () { var el = document.getElementById("claim"); if (el) el.click(); },
    "/": function () { focusById("search"); },
    "?": toggleHelp,
    Enter: openSelected,
  };

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var help = document.getElementById("shortcut-help");
      if (help) { help.remove(); return; }
      if (typing(event.target)) event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.target && event.target.closest && event.target.closest("[hx-disable], #shortcut-help")) return;
    if (event.key === "Enter" && event.target !== document.body) return;
    var action = shortcuts[event.key];
    if (!action) return;
    if (action() === false) return;  // Enter with no row selected keeps its usual meaning
    event.preventDefault();
  });

  // --- Quick replies: a picker, and "/shortcut" + Tab or Enter in the reply box -------
  function quickOptions() {
    return Array.prototype.slice.call(document.querySelectorAll("#quick-reply option[data-text]"));
  }

  // The "/word" just before the cursor, if the cursor ends one.
  function slashToken(box) {
    var before = box.value.slice(0, box.selectionStart);
    var match = /(^|\s)(\/[a-z0-9_-]*)$/.exec(before);
    return match ? { start: before.length - match[2].length, text: match[2] } : null;
  }

  function insertReply(box, text, token) {
    var start = token ? token.start : box.selectionStart;
    var end = token ? token.start + token.text.length : box.selectionEnd;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    var caret = start + text.length;
    box.setSelectionRange(caret, caret);
    box.focus();
    hideSuggestions();
  }

  function hideSuggestions() {
    var list = document.getElementById("quick-suggest");
    if (!list) return;
    list.hidden = true;
    list.textContent = "";
  }

  function showSuggestions(box) {
    var list = document.getElementById("quick-suggest");
    if (!list) return;
    var token = slashToken(box);
    var matches = token ? quickOptions().filter(function (option) {
      return option.getAttribute("data-shortcut").indexOf(token.text) === 0;
    }) : [];
    list.textContent = "";
    if (!matches.length) { list.hidden = true; return; }
    matches.forEach(function (option, index) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.textContent = option.textContent;  // text only: the reply may hold a customer's name
      item.setAttribute("data-index", String(quickOptions().indexOf(option)));
      if (index === 0) { item.classList.add("active"); item.setAttribute("aria-selected", "true"); }
      item.addEventListener("mousedown", function (event) {
        event.preventDefault();
        insertReply(box, option.getAttribute("data-text"), slashToken(box));
      });
      list.appendChild(item);
    });
    list.hidden = false;
  }

  function moveSuggestion(list, forwards) {
    var items = Array.prototype.slice.call(list.querySelectorAll("li"));
    var at = items.findIndex(function (item) { return item.classList.contains("active"); });
    var next = Math.min(items.length - 1, Math.max(0, at + (forwards ? 1 : -1)));
    items.forEach(function (item) { item.classList.remove("active"); item.removeAttribute("aria-selected"); });
    items[next].classList.add("active");
    items[next].setAttribute("aria-selected", "true");
  }

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (!box || box.id !== "reply-body") return;
    var list = document.getElementById("quick-suggest");
    if (!list || list.hidden) return;
    if (event.key === "Tab" || event.key === "Enter") {
      var active = list.querySelector("li.active");
      var option = active ? quickOptions()[Number(active.getAttribute("data-index"))] : null;
      if (!option) return;
      event.preventDefault();
      insertReply(box, option.getAttribute("data-text"), slashToken(box));
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      moveSuggestion(list, event.key === "ArrowDown");
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopImmediatePropagation();
      hideSuggestions();
    }
  }, true);

  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "reply-body") showSuggestions(event.target);
  });

  document.addEventListener("focusout", function (event) {
    if (event.target && event.target.id === "reply-body") hideSuggestions();
  });

  document.addEventListener("change", function (event) {
    var picker = event.target;
    if (!picker || picker.id !== "quick-reply" || !picker.value) return;
    var option = picker.options[picker.selectedIndex];
    var box = document.getElementById("reply-body");
    if (box && option) insertReply(box, option.getAttribute("data-text"), null);
    picker.value = "";
  });

  // Mention buttons beside the note box put "@handle " at the cursor.
  document.addEventListener("click", function (event) {
    var pick = event.target && event.target.closest && event.target.closest(".mention-pick");
    if (!pick) return;
    var box = document.getElementById("note-body");
    if (!box) return;
    var mention = "@" + pick.getAttribute("data-handle") + " ";
    var start = box.selectionStart;
    var lead = start > 0 && !/\s/.test(box.value.charAt(start - 1)) ? " " : "";
    box.value = box.value.slice(0, start) + lead + mention + box.value.slice(box.selectionEnd);
    var caret = start + lead.length + mention.length;
    box.setSelectionRange(caret, caret);
    box.focus();
  });

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest(".template-form");
    if (form) previewTemplate(form);
  });

  // One EventSource per page: on "changed", tell the page's poller to fetch now.
  var stream = null;
  function listen() {
    var poller = document.querySelector(".poller[data-live]");
    var url = poller && poller.getAttribute("data-live");
    var wanted = url ? new URL(url, window.location.href).href : null;
    if (stream && stream.url !== wanted) { stream.close(); stream = null; }
    if (!url || stream || !window.EventSource) return;
    stream = new EventSource(url);
    stream.addEventListener("changed", function () {
      var current = document.querySelector(".poller[data-live]");
      if (current && window.htmx) window.htmx.trigger(current, "kazichanged");
    });
    stream.addEventListener("signed-out", function () { stream.close(); window.location.assign("/login"); });
    stream.addEventListener("presence", function (event) {
      var el = document.getElementById("presence");
      if (!el) return;
      var data = {};
      try { data = JSON.parse(event.data); } catch (e) { return; }
      el.textContent = data.text || "";
      el.classList.toggle("typing", (data.typing || []).length > 0);
    });
  }

  // Presence: the conversation page says it is open (every 15 s while visible) and
  // when its reply box is typed in (at most every 2 s); colleagues see it live.
  var presenceUrl = null;
  var lastTyped = 0;
  function csrfHeaders() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { return {}; }
  }
  function reportPresence(url, activity) {
    if (!url || !window.fetch) return;
    var headers = csrfHeaders();
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    window.fetch(url, {
      method: "POST", headers: headers, body: "activity=" + activity,
      credentials: "same-origin", keepalive: true,
    }).catch(function () {});
  }
  function trackPresence() {
    var el = document.getElementById("presence");
    var url = el ? el.getAttribute("data-presence") : null;
    if (presenceUrl && presenceUrl !== url) reportPresence(presenceUrl, "left");
    if (url && url !== presenceUrl) reportPresence(url, "viewing");
    presenceUrl = url;
  }
  setInterval(function () {
    if (presenceUrl && document.visibilityState === "visible") reportPresence(presenceUrl, "viewing");
  }, 15000);
  window.addEventListener("pagehide", function () { if (presenceUrl) reportPresence(presenceUrl, "left"); });
  document.addEventListener("input", function (event) {
    if (!presenceUrl || !event.target || event.target.id !== "reply-body") return;
    var now = Date.now();
    if (now - lastTyped < 2000) return;
    lastTyped = now;
    reportPresence(presenceUrl, "typing");
  });

  // The reply box's richer sends: show only the fields of the kind chosen.
  function showRichParts(select) {
    if (!select || !select.form) return;
    select.form.querySelectorAll(".rich-part").forEach(function (part) {
      part.hidden = (part.getAttribute("data-kinds") || "").split(" ").indexOf(select.value) < 0;
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "rich-kind") showRichParts(event.target);
  });

  function start() {
    showRichParts(document.getElementById("rich-kind"));
    rememberQueue();
    listen();
    trackPresence();
    document.querySelectorAll(".template-form").forEach(previewTemplate);
    tickCountdowns();
  }

  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSettle", start);
  setInterval(tickCountdowns, 15000);
})();
