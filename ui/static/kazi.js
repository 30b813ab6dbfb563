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
  }

  function start() {
    listen();
    document.querySelectorAll(".template-form").forEach(previewTemplate);
    tickCountdowns();
  }

  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSettle", start);
  setInterval(tickCountdowns, 15000);
})();
