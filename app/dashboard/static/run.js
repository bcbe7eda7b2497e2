// Live progress of a running review: poll the run's JSON and update the page in place (no reload).
// Text goes in through textContent only; the finished page is fetched from our own origin and swapped in.
(function () {
  "use strict";
  var root = document.getElementById("run");
  if (!root || root.dataset.status !== "running") { return; }
  var url = "/api/runs/" + encodeURIComponent(root.dataset.runId);
  var delay = 1000;

  function set(id, text) {
    var el = document.getElementById(id);
    if (el) { el.textContent = text; }
  }

  function swapInFinishedPage() {
    return fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("run");
        var current = document.getElementById("run");
        if (fresh && current) { current.replaceWith(document.adoptNode(fresh)); }
        document.title = document.title.replace("running", fresh ? fresh.dataset.status : "done");
      });
  }

  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (run) {
        if (!run) { window.setTimeout(tick, delay * 3); return; }
        var p = run.progress || {};
        set("progress-stage", p.stage || "starting");
        var total = (p.chunks_total === null || p.chunks_total === undefined) ? "?" : p.chunks_total;
        set("progress-chunks", (p.chunks_done || 0) + " of " + total);
        var bar = document.getElementById("progress-bar");
        if (bar) { bar.max = p.chunks_total || 1; bar.value = p.chunks_done || 0; }
        set("run-status", run.status);
        if (run.status === "running") { window.setTimeout(tick, delay); } else { swapInFinishedPage(); }
      })
      .catch(function () { window.setTimeout(tick, delay * 3); });
  }
  window.setTimeout(tick, delay);
})();
