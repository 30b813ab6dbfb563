// The builder's page behaviours: drag to reorder stages (SortableJS), the allowed-moves
// diagram laid out by dagre, and the WhatsApp-style template preview. Served as a file so
// the CSP can forbid inline code; text goes through textContent only.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function svg(name, attrs) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }

  function sortable(root) {
    if (!window.Sortable) return;
    root.querySelectorAll("ol.sortable").forEach(function (list) {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      window.Sortable.create(list, {
        handle: ".handle",
        forceFallback: true,  // mouse and touch events, not native drag: same on every browser
        animation: 150,
        onEnd: function () {
          var order = Array.prototype.map.call(list.querySelectorAll("li[data-stage]"), function (li) {
            return li.getAttribute("data-stage");
          });
          var input = list.closest("form").querySelector("input.stage-order");
          input.value = order.join(",");
        }
      });
    });
  }

  function diagram(root) {
    if (!window.dagre) return;
    root.querySelectorAll(".pipeline-diagram[data-graph]").forEach(function (box) {
      var data = JSON.parse(box.getAttribute("data-graph"));
      var g = new window.dagre.graphlib.Graph();
      g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 46, marginx: 8, marginy: 8 });
      g.setDefaultEdgeLabel(function () { return {}; });
      data.nodes.forEach(function (n) {
        g.setNode(n.id, { label: n.label, width: Math.max(70, n.label.length * 7 + 16), height: 30, terminal: n.terminal });
      });
      data.edges.forEach(function (e) { g.setEdge(e[0], e[1]); });
      window.dagre.layout(g);
      var size = g.graph();
      var out = svg("svg", { width: size.width, height: size.height, viewBox: "0 0 " + size.width + " " + size.height, role: "img" });
      var defs = svg("defs");
      var marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
      marker.appendChild(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", "class": "arrowhead" }));
      defs.appendChild(marker);
      out.appendChild(defs);
      g.edges().forEach(function (e) {
        var points = g.edge(e).points;
        var d = points.map(function (p, i) { return (i ? "L" : "M") + p.x + " " + p.y; }).join(" ");
        out.appendChild(svg("path", { d: d, "class": "edge", "marker-end": "url(#arrow)" }));
      });
      g.nodes().forEach(function (id) {
        var n = g.node(id);
        var group = svg("g", { "class": "node" + (n.terminal ? " terminal" : ""), "data-stage": id });
        group.appendChild(svg("rect", { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height, rx: 6 }));
        var text = svg("text", { x: n.x, y: n.y + 4, "text-anchor": "middle" });
        text.textContent = n.label;
        group.appendChild(text);
        out.appendChild(group);
      });
      box.replaceChildren(out);
    });
  }

  function fill(text, variables) {
    return (text || "").replace(/\{\{\s*(\d+)\s*\}\}/g, function (whole, n) {
      return variables[n] ? "[" + variables[n] + "]" : whole;
    });
  }

  function templatePreview(root) {
    root.querySelectorAll("form.template-form").forEach(function (form) {
      var bubble = form.parentNode.querySelector(".wa-bubble");
      if (!bubble) return;
      var variables = JSON.parse(bubble.getAttribute("data-variables") || "{}");
      function render() {
        ["header", "body", "footer"].forEach(function (part) {
          var field = form.querySelector("[name=" + part + "]");
          var out = bubble.querySelector(".wa-" + part);
          if (out) out.textContent = field ? fill(field.value, variables[part] || {}) : "";
        });
      }
      form.addEventListener("input", render);
      render();
    });
  }

  // A diagnostic's position link puts the rule editor's cursor at that line and column.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.goto") : null;
    if (!link) return;
    var item = link.closest(".diagnostic");
    var editor = document.querySelector("form.rules-form textarea[name=text]");
    if (!item || !editor) return;
    event.preventDefault();
    var line = parseInt(item.getAttribute("data-line"), 10);
    var column = parseInt(item.getAttribute("data-column"), 10);
    var lines = editor.value.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max(0, column - 1);
    editor.focus();
    editor.setSelectionRange(offset, offset);
  });

  // A refused preview names file:line; the field written on that line shows the error too.
  function markFields(preview) {
    document.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    document.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    preview.querySelectorAll(".diagnostic[data-file][data-line]").forEach(function (item) {
      var selector = '[data-file="' + item.getAttribute("data-file") + '"][data-line="' + item.getAttribute("data-line") + '"]';
      document.querySelectorAll(".builder " + selector).forEach(function (field) {
        field.classList.add("has-error");
        var note = document.createElement("small");
        note.className = "field-error";
        note.textContent = item.getAttribute("data-message") || "";
        field.appendChild(note);
      });
    });
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "preview") {
      markFields(event.detail.target);
    }
  });

  function init(root) {
    sortable(root);
    diagram(root);
    templatePreview(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
