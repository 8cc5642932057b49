// The admin console's live audit tail: new events arrive over a WebSocket
// and go on top of the table. When the connection drops it reconnects,
// resuming after the last event it showed, so none is lost or repeated.
(function () {
  "use strict";
  const table = document.getElementById("events");
  const status = document.getElementById("live-status");
  if (!table || !status) return;
  const body = table.tBodies[0];
  let last = Number(table.dataset.lastId || "0");
  let delay = 1000;
  const filters = new URLSearchParams(window.location.search);
  filters.delete("verify");

  function cell(text, code) {
    const td = document.createElement("td");
    if (code) {
      const c = document.createElement("code");
      c.textContent = text;
      td.appendChild(c);
    } else {
      td.textContent = text;
    }
    return td;
  }

  function show(e) {
    const tr = document.createElement("tr");
    tr.dataset.id = String(e.id);
    tr.className = "fresh";
    tr.append(
      cell(e.at),
      cell(e.actor, true),
      cell(e.action),
      cell(e.target, true),
      cell(e.outcome + (e.reason ? " (" + e.reason + ")" : "")),
    );
    body.insertBefore(tr, body.firstChild);
    while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
  }

  function connect() {
    filters.set("after", String(last));
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(scheme + "//" + window.location.host + "/admin/audit/live?" + filters.toString());
    ws.onopen = function () {
      status.textContent = "Live: new events appear at the top.";
      delay = 1000;
    };
    ws.onmessage = function (m) {
      const e = JSON.parse(m.data);
      if (e.id <= last) return;
      last = e.id;
      show(e);
    };
    ws.onclose = function () {
      status.textContent = "Reconnecting…";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  connect();
})();
