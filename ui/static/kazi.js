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

  var shortcuts = {
    j: function () { window.location.assign("/inbox/next"); },
    r: function () { var el = document.getElementById("reply-body"); if (el) el.focus(); },
    n: function () { var el = document.getElementById("note-body"); if (el) el.focus(); },
    a: function () { var el = document.getElementById("assignee"); if (el) el.focus(); },
    c: function () { var el = document.getElementById("claim"); if (el) el.click(); },
    "/": function () { var el = document.getElementById("search"); if (el) el.focus(); },
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var action = shortcuts[event.key];
    if (action) { event.preventDefault(); action(); }
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

  function start() {
    listen();
    trackPresence();
    document.querySelectorAll(".template-form").forEach(previewTemplate);
    tickCountdowns();
  }

  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSettle", start);
  setInterval(tickCountdowns, 15000);
})();
