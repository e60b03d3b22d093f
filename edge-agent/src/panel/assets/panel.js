// The overview and the room pages, live: applies each `overview` event of /events to the
// server-rendered page, found through its data-* attributes. Data is only ever written
// with textContent.
(function () {
  "use strict";
  var page = document.querySelector("[data-overview]");
  if (!page || !window.EventSource) return;
  // A room page shows one room: the others in each event are not missing there.
  var single = page.getAttribute("data-overview") === "room";
  var live = document.querySelector('[data-field="live"]');
  var loaded = Date.now();
  var offset = 0; // the server's clock minus this one, ms

  function span(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 90) return s + " s";
    if (s < 5400) return Math.floor(s / 60) + " min";
    if (s < 172800) return Math.floor(s / 3600) + " h";
    return Math.floor(s / 86400) + " d";
  }

  function ages() {
    var now = Date.now() + offset;
    var all = page.querySelectorAll("[data-ts]");
    for (var i = 0; i < all.length; i++) {
      var text = span(now - Number(all[i].getAttribute("data-ts"))) + " ago";
      if (all[i].textContent !== text) all[i].textContent = text;
    }
  }

  function find(scope, attr, value) {
    var all = scope.querySelectorAll("[" + attr + "]");
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute(attr) === value) return all[i];
    }
    return null;
  }

  function set(scope, field, text, className) {
    var el = scope.querySelector('[data-field="' + field + '"]');
    if (!el) return;
    if (el.textContent !== text) el.textContent = text;
    if (className && el.className !== className) el.className = className;
  }

  function alarms(list, items) {
    while (list.firstChild) list.removeChild(list.firstChild);
    if (!items.length) {
      var none = document.createElement("li");
      none.className = "none";
      none.textContent = "None";
      list.appendChild(none);
    }
    items.forEach(function (alarm) {
      var li = document.createElement("li");
      var name = document.createElement("strong");
      name.textContent = alarm.loop;
      li.appendChild(name);
      li.appendChild(document.createTextNode(": " + alarm.message));
      list.appendChild(li);
    });
  }

  // Applies one event; true if the page lacks something it names (a new room, metric or
  // actuator), which only a reload can add.
  function apply(data) {
    var missing = false;
    offset = data.now - Date.now();
    data.rooms.forEach(function (room) {
      var section = find(page, "data-room", room.room);
      if (!section) { if (!single) missing = true; return; }
      room.readings.forEach(function (r) {
        var row = find(section, "data-metric", r.metric);
        if (!row) { missing = true; return; }
        set(row, "value", r.text);
        set(row, "status", r.status.replace(/_/g, " "), "status status-" + r.status);
        set(row, "detail", r.detail);
        var age = row.querySelector("[data-ts]");
        if (age) age.setAttribute("data-ts", String(r.ts));
      });
      room.actuators.forEach(function (a) {
        var item = find(section, "data-actuator", a.name);
        if (!item) { missing = true; return; }
        set(item, "state", a.state, "switch switch-" + a.state);
        set(item, "override", a.override || "");
      });
      var list = section.querySelector('[data-field="alarms"]');
      if (list) alarms(list, room.alarms);
    });
    ages();
    return missing;
  }

  var source = new EventSource("/events");
  source.addEventListener("overview", function (event) {
    var missing = apply(JSON.parse(event.data));
    if (live && live.textContent !== "Live: values update as they change.") {
      live.textContent = "Live: values update as they change.";
    }
    // At most one reload per 10 s, so a page that cannot catch up never loops.
    if (missing && Date.now() - loaded > 10000) window.location.reload();
  });
  source.addEventListener("error", function () {
    if (live) live.textContent = source.readyState === EventSource.CLOSED
      ? "Live updates stopped; reload the page to try again."
      : "Live updates interrupted; reconnecting…";
  });
  window.setInterval(ages, 1000);
})();
