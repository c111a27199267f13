// The live room's only script: follow the room over Server-Sent Events and refresh the page's
// main part when the room moves on. Forms work without it; it never moves focus, and it
// leaves a form alone while the vote it belongs to is still open.
(function () {
  "use strict";
  var body = document.body;
  var room = body.getAttribute("data-room");
  if (!room || !window.EventSource) { return; }
  var live = document.getElementById("live");
  var seq = parseInt(body.getAttribute("data-seq") || "0", 10);
  var fetching = false;

  function announce(text) { if (live) { live.textContent = text; } }

  function said(frame) {
    if (frame.paused) { return "The meeting is paused."; }
    if (frame.phase === "open") { return "The vote is open."; }
    if (frame.phase === "closed") { return "The vote is closed."; }
    if (frame.phase === "finished") { return "The walk has ended."; }
    return "Waiting for the next vote.";
  }

  function refresh(frame) {
    if (fetching) { return; }
    fetching = true;
    fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        var main = document.getElementById("main");
        if (fresh && main) {
          var typing = keepTyping();
          main.innerHTML = fresh.innerHTML;
          typing();
          var key = doc.body.getAttribute("data-key");
          if (key) { body.setAttribute("data-key", key); }
          body.setAttribute("data-seq", doc.body.getAttribute("data-seq") || "0");
          var sentence = main.querySelector(".sentence");
          announce(said(frame) + (sentence ? " " + sentence.textContent : ""));
        }
      })
      .catch(function () { /* the next frame or heartbeat tries again */ })
      .then(function () { fetching = false; });
  }

  // A facilitator halfway through typing their name keeps it (and the caret) when the
  // page's main part is replaced because the room moved on.
  function keepTyping() {
    var field = document.activeElement;
    if (!field || field.id !== "fac-name") { return function () {}; }
    var value = field.value, start = field.selectionStart, end = field.selectionEnd;
    return function () {
      var again = document.getElementById("fac-name");
      if (!again) { return; }
      again.value = value;
      again.focus();
      again.setSelectionRange(start, end);
    };
  }

  function onFrame(frame) {
    if (typeof frame.seq !== "number" || frame.seq < seq) { return; }
    seq = frame.seq;
    var key = [frame.phase, frame.round, frame.step].join("-") + (frame.paused ? "-paused" : "");
    // only the facilitator's page follows who has joined; a member's half-typed reason stays
    if (body.hasAttribute("data-joined")) { key += "-" + frame.joined; }
    if (key !== body.getAttribute("data-key")) { refresh(frame); return; }
    var counts = document.querySelectorAll("[data-count]");
    for (var i = 0; i < counts.length; i++) { counts[i].textContent = String(frame.voted); }
    var who = frame.voters || frame.who || [];
    var names = document.querySelectorAll("[data-who]");
    for (var k = 0; k < names.length; k++) { names[k].textContent = who.join(", "); }
    // the stream's frames carry no votes and, under a secret ballot, no names: the
    // facilitator's page asks the room for who has voted (and, named, how)
    if ((frame.mode === "secret" || frame.mode === "named") && frame.phase === "open" &&
        !frame.voters && body.hasAttribute("data-joined")) {
      catchUp();
      return;
    }
    var rows = document.querySelectorAll("li[data-member]");
    for (var j = 0; j < rows.length; j++) {
      var status = rows[j].querySelector("[data-status]");
      var voted = who.indexOf(rows[j].getAttribute("data-member")) >= 0;
      if (status) {
        status.textContent = voted ? "voted" : "not voted";
        status.className = voted ? "" : "muted";
      }
      var value = rows[j].querySelector("[data-value]");
      var how = (frame.votes || {})[rows[j].getAttribute("data-member")];
      if (value) { value.textContent = how ? "(" + how + ")" : ""; }
    }
  }

  var source = null;
  function connect() {
    source = new EventSource("/r/" + room + "/events");
    source.onmessage = function (e) {
      try { onFrame(JSON.parse(e.data)); } catch (err) { /* a malformed frame is skipped */ }
    };
    source.addEventListener("heartbeat", function (e) {
      try {
        if (JSON.parse(e.data).seq > seq) { catchUp(); }
      } catch (err) { /* skipped */ }
    });
    source.onerror = function () {
      // the browser retries by itself (Last-Event-ID); a stream it gave up on is reopened
      if (source.readyState === 2) { setTimeout(connect, 3000); }
    };
  }
  connect();

  function catchUp() {
    fetch("/r/" + room + "/state", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(onFrame)
      .catch(function () { /* offline: the stream reconnects by itself */ });
  }
  window.addEventListener("online", catchUp);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { catchUp(); }
  });
})();
