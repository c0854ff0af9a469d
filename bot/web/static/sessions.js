/* session-bot: running durations tick, and the sessions list stays current without a reload.
 *
 * The list polls the JSON API with the page's own query string, at most every 5 s and only while
 * the tab is visible, conditionally (If-None-Match with the last ETag: a 304 changes nothing).
 * It builds no HTML from text: a new row is a copy of the server's <template>, and every value is
 * set with textContent or an attribute. Without this script every page still works; it only
 * saves a reload.
 */
(function () {
  "use strict";

  var POLL_MS = 5000;
  var table = document.getElementById("sessions");
  var template = document.getElementById("session-row-template");
  var etag = table && table.getAttribute("data-etag");  /* the API's ETag of what the page shows */
  var timer = null;
  var lastPoll = 0;

  /* `1h 02m`, `12m 05s`, `40s`: as PR comments write it (bot/commands/session_text.py). */
  function formatDuration(seconds) {
    if (!(seconds >= 0)) { return "—"; }
    var s = Math.floor(seconds), hours = Math.floor(s / 3600), minutes = Math.floor((s % 3600) / 60), secs = s % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (hours) { return hours + "h " + pad(minutes) + "m"; }
    return minutes ? minutes + "m " + pad(secs) + "s" : secs + "s";
  }

  /* `2026-11-24 16:20 UTC` from `2026-11-24T16:20:05Z`. */
  function formatWhen(iso) {
    return iso ? iso.slice(0, 10) + " " + iso.slice(11, 16) + " UTC" : "—";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-field='duration']").forEach(function (el) {
      var start = Date.parse(el.getAttribute("data-start") || "");
      var end = el.getAttribute("data-end") ? Date.parse(el.getAttribute("data-end")) : now;
      el.textContent = isNaN(start) ? "—" : formatDuration((end - start) / 1000);
    });
  }

  function field(row, name) { return row.querySelector("[data-field='" + name + "']"); }

  function setText(el, text) { if (el && el.textContent !== text) { el.textContent = text; } }

  /* A link only to the web (http or https); anything else is shown as no link at all. */
  function setLink(el, url) {
    var ok = typeof url === "string" && /^https?:\/\//i.test(url);
    if (ok) { el.setAttribute("href", url); } else { el.removeAttribute("href"); }
    el.hidden = !ok;
  }

  /* The icon of a state, as the server drew it in the counts' links. */
  function stateIcon(state) {
    var link = document.querySelector("#state-counts a[data-state='" + state + "']");
    return (link && link.getAttribute("data-icon")) || "octicon-alert";
  }

  /* One row from the API's session (docs/openapi.yaml: Session). */
  function fill(row, s) {
    var pull = s.pull_request || {};
    row.setAttribute("data-session-id", String(s.id));
    row.setAttribute("data-state", s.state);
    var badge = field(row, "state");
    badge.className = "state state-" + s.state;
    badge.querySelector(".octicon").className = "octicon " + stateIcon(s.state);
    setText(field(row, "state-word"), s.state_label || s.state);
    field(row, "stuck").hidden = !s.stuck;
    setText(field(row, "stuck-word"), s.stuck_label || "");
    setText(field(row, "repository"), s.repository);
    var title = field(row, "title");
    setText(title, pull.title || "Session " + s.id);
    title.setAttribute("href", "/sessions/" + encodeURIComponent(s.id));
    setText(field(row, "starter"), s.starter || "unknown");
    var created = field(row, "created");
    var time = created.querySelector("time");
    if (!time) { time = document.createElement("time"); created.textContent = ""; created.appendChild(time); }
    time.setAttribute("datetime", s.created_at || "");
    setText(time, formatWhen(s.created_at));
    var duration = field(row, "duration");
    duration.setAttribute("data-start", s.started_at || s.created_at || "");
    duration.setAttribute("data-end", s.running ? "" : (s.finished_at || ""));
    setLink(field(row, "pull"), pull.html_url);
    setText(field(row, "pull-number"), pull.number ? "#" + pull.number : "");
    setLink(field(row, "run"), s.run_url);
    var tasks = (s.tasks || []).map(function (t) { return t.summary; }).join("; ");
    var task = field(row, "task");
    setText(task, tasks);
    task.hidden = !tasks;
  }

  function countText(count, more) { return Number(count).toLocaleString("en-US") + (more ? "+" : ""); }

  /* The counts per state and the total (docs/openapi.yaml: SessionList); "running" is in progress. */
  function renderCounts(data) {
    (data.counts || []).forEach(function (c) {
      setText(document.getElementById("count-" + c.state), countText(c.count, c.more));
      if (c.state === "in_progress") { setText(document.getElementById("count-running"), countText(c.count, c.more)); }
    });
    setText(document.getElementById("count-total"), countText(data.total_count, data.total_count_more));
  }

  function render(data) {
    renderCounts(data);
    var body = document.getElementById("session-rows");
    var byId = {};
    Array.prototype.forEach.call(body.rows, function (row) { byId[row.getAttribute("data-session-id")] = row; });
    /* Rows already in place stay where they are (a focused link keeps its focus); new ones are copies. */
    var next = body.firstElementChild;
    data.sessions.forEach(function (s) {
      var row = byId[String(s.id)] || template.content.firstElementChild.cloneNode(true);
      fill(row, s);
      if (row === next) { next = next.nextElementSibling; } else { body.insertBefore(row, next); }
    });
    while (next) { var after = next.nextElementSibling; body.removeChild(next); next = after; }
    document.getElementById("no-sessions").hidden = data.sessions.length > 0;
    tick();
  }

  function schedule() {
    clearTimeout(timer);
    if (!document.hidden) { timer = setTimeout(poll, Math.max(0, lastPoll + POLL_MS - Date.now())); }
  }

  function poll() {
    lastPoll = Date.now();
    var headers = { Accept: "application/json" };
    if (etag) { headers["If-None-Match"] = etag; }
    fetch(table.getAttribute("data-api") + window.location.search, { headers: headers, credentials: "same-origin" })
      .then(function (response) {
        if (response.status !== 200) { return null; }  /* 304: nothing changed; an error: try again later */
        etag = response.headers.get("ETag");
        return response.json().then(render);
      })
      .catch(function () { return null; })
      .then(schedule);
  }

  setInterval(tick, 1000);
  if (table && template && window.fetch) {
    document.addEventListener("visibilitychange", schedule);
    schedule();
  }
}());
