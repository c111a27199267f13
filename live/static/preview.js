// The author's preview: follow the watch over Server-Sent Events (the live room's stream)
// and, when a save moved it on, fetch the page again and swap its parts in. The picture is
// swapped only when it was redrawn, then scrolled to its first marked problem.
(function () {
  "use strict";
  var body = document.body;
  if (!window.EventSource || !window.fetch) { return; }
  var seq = parseInt(body.getAttribute("data-seq") || "0", 10);
  var fetching = false;
  var again = false;

  function swap(doc, id) {
    var fresh = doc.getElementById(id);
    var old = document.getElementById(id);
    if (!fresh || !old) { return; }
    var nodes = [];
    for (var i = 0; i < fresh.childNodes.length; i++) {
      nodes.push(document.importNode(fresh.childNodes[i], true));
    }
    old.replaceChildren.apply(old, nodes);
    if (fresh.className !== old.className) { old.className = fresh.className; }
  }

  function showProblem() {
    var marked = document.querySelector("#picture .node.problem");
    if (marked && marked.scrollIntoView) {
      marked.scrollIntoView({ block: "center", inline: "center" });
    }
  }

  function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    fetch("/", { cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = parseInt(doc.body.getAttribute("data-seq") || "0", 10);
        if (fresh < seq) { return; }
        seq = fresh;
        body.setAttribute("data-seq", String(fresh));
        ["head", "picture-note", "problems", "scenarios"].forEach(function (id) { swap(doc, id); });
        var picture = doc.body.getAttribute("data-picture");
        if (picture !== body.getAttribute("data-picture")) {
          swap(doc, "picture");
          body.setAttribute("data-picture", picture || "0");
          showProblem();
        }
        document.title = doc.title;
        var live = document.getElementById("live");
        var summary = document.querySelector("[data-summary]");
        if (live && summary) { live.textContent = summary.textContent; }
      })
      .catch(function () { /* the next frame or heartbeat tries again */ })
      .then(function () {
        fetching = false;
        if (again) { again = false; refresh(); }
      });
  }

  function onFrame(frame) {
    if (typeof frame.seq === "number" && frame.seq > seq) { refresh(); }
  }

  var source = null;
  function connect() {
    source = new EventSource("/events");
    source.onmessage = function (e) {
      try { onFrame(JSON.parse(e.data)); } catch (err) { /* a malformed frame is skipped */ }
    };
    source.addEventListener("heartbeat", function (e) {
      try { onFrame(JSON.parse(e.data)); } catch (err) { /* skipped */ }
    });
    source.onerror = function () {
      // the browser retries by itself; a stream it gave up on is reopened
      if (source.readyState === 2) { setTimeout(connect, 3000); }
    };
  }
  connect();
  showProblem();

  function catchUp() {
    fetch("/state", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(onFrame)
      .catch(function () { /* the watch has stopped: the stream reconnects when it is back */ });
  }
  window.addEventListener("online", catchUp);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { catchUp(); }
  });
})();
