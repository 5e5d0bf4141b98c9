// The runagents-mock console: polls the control API (/_mock/state, journal, clock, faults) and
// acts through the control API and the documented API, exactly as any other client would.
// Every value from the mock is put into the page as text (textContent / text nodes), never as
// HTML, so names, event data or journal bodies holding markup stay inert.
(function () {
  "use strict";

  var POLL_MS = 1000;
  var STORE = "runagents-mock-console-keys";  // sessionStorage: this tab only, never a cookie
  var keys = loadKeys();
  var rendered = {};   // section -> JSON of what it shows, to redraw only what changed
  var openRuns = {};   // run ids whose timeline is open
  var openAgents = {}; // "workspace/namespace/name" of agent processes whose log is open
  var workspace = "default";  // the workspace the page shows (state, journal, clock, requests)
  var noticeUntil = 0;
  var timer = null;
  var generation = 0;  // only the latest refresh schedules the next one

  // --- talking to the mock ------------------------------------------------------------

  function loadKeys() {
    try { return JSON.parse(window.sessionStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }

  function headersFor(admin, json) {
    var h = {};
    if (json) { h["Content-Type"] = "application/json"; }
    // The API needs some bearer key even when the mock accepts any; the control API needs
    // one only when the mock has keys.
    var key = admin ? keys.admin : (keys.api || keys.admin || "runagents-mock-console");
    if (key) { h.Authorization = "Bearer " + key; }
    return h;
  }

  function call(method, path, body, admin) {
    var init = {method: method, headers: headersFor(admin, body !== undefined), credentials: "omit",
                cache: "no-store"};
    if (body !== undefined) { init.body = typeof body === "string" ? body : JSON.stringify(body); }
    return fetch(path, init).then(function (response) {
      return response.text().then(function (raw) {
        var data = null;
        try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = raw; }
        if (response.status === 401 && admin) { needKey(); }
        return {status: response.status, ok: response.ok, data: data};
      });
    });
  }

  function control(method, path, body) { return call(method, "/_mock/" + path, body, true); }

  // A control path of the shown workspace (the default one's are the plain paths).
  function scoped(path) {
    return workspace === "default" ? path : "workspaces/" + encodeURIComponent(workspace) + "/" + path;
  }

  // The shown workspace's June API, for decisions made with a scope or in a named workspace.
  function v1Base() {
    return workspace === "default" ? "/api/v1" : "/api/v1/workspaces/" + encodeURIComponent(workspace);
  }
  function api(method, path, body) { return call(method, path, body, false); }

  function errorText(result) {
    if (result.data && typeof result.data === "object" && typeof result.data.error === "string") {
      return result.data.error;
    }
    return "HTTP " + result.status;
  }

  // After an action: say what happened, then redraw at once.
  function report(what, result) {
    notice(result.ok ? what + ": done (" + result.status + ")" : what + " failed: " + errorText(result), !result.ok);
    return refresh();
  }

  function notice(message, isError) {
    var line = $("status-line");
    line.textContent = message;
    line.className = isError ? "error" : "";
    noticeUntil = Date.now() + 5000;
  }

  // --- polling --------------------------------------------------------------------------

  function refresh() {
    window.clearTimeout(timer);
    var mine = ++generation;
    return Promise.all([control("GET", scoped("state")), control("GET", scoped("journal")),
                        control("GET", scoped("clock")), control("GET", "faults"), agentProcesses(),
                        control("GET", "workspaces")])
      .then(function (results) {
        if (results.some(function (r) { return r.status === 401; })) { return; }
        var failed = results.filter(function (r) { return !r.ok; });
        if (failed.length) { throw new Error(errorText(failed[0])); }
        showApp();
        draw(results[0].data, results[1].data, results[2].data, results[3].data);
        drawAgentProcesses(results[4].data);
        drawWorkspaces(results[5].data.workspaces);
        if (Date.now() > noticeUntil) {
          $("status-line").className = "";
          $("status-line").textContent = "live · updated " + new Date().toLocaleTimeString();
        }
      })
      .catch(function (err) {
        if (Date.now() > noticeUntil) {
          $("status-line").className = "error";
          $("status-line").textContent = "cannot reach the mock: " + err.message;
        }
      })
      .then(function () {
        if (mine === generation) { timer = window.setTimeout(refresh, POLL_MS); }
      });
  }

  // The agent processes, with the log of each one whose entry is open.
  function agentProcesses() {
    return control("GET", "agent-processes").then(function (listed) {
      if (!listed.ok || !listed.data.enabled) { return listed; }
      var open = listed.data.agents.filter(function (a) { return openAgents[agentKey(a)]; });
      return Promise.all(open.map(function (a) {
        return control("GET", "agent-processes/" + [a.workspace, a.namespace, a.name].map(encodeURIComponent).join("/") + "/log");
      })).then(function (logs) {
        var byKey = {};
        logs.forEach(function (log) { if (log.ok) { byKey[agentKey(log.data)] = log.data; } });
        return {status: listed.status, ok: true, data: {enabled: true, agents: listed.data.agents, logs: byKey}};
      });
    });
  }

  function agentKey(a) { return a.workspace + "/" + a.namespace + "/" + a.name; }

  function needKey() {
    $("app").hidden = true;
    $("login").hidden = false;
    rendered = {};
    ["pending-requests", "blocked-actions", "grants", "journal", "faults"].forEach(function (id) {
      clear(document.querySelector("#" + id + " tbody"));
    });
    clear($("run-list"));
    clear($("resource-tables"));
    if (Date.now() > noticeUntil) {
      $("status-line").textContent = keys.admin ? "the key was refused" : "this mock needs its admin key";
    }
  }

  function showApp() {
    $("login").hidden = true;
    $("app").hidden = false;
    $("logout-button").hidden = !keys.admin;
  }

  // --- drawing --------------------------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function text(value) {
    if (value === undefined || value === null) { return ""; }
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  // el("td", {class: "x", "data-id": id}, ["text", otherNode]): attributes are set with
  // setAttribute and strings become text nodes.
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (name.indexOf("on") === 0) { node.addEventListener(name.slice(2), value); }
      else if (value !== undefined && value !== null && value !== false) { node.setAttribute(name, value === true ? "" : String(value)); }
    });
    (children || []).forEach(function (child) {
      node.appendChild(child instanceof Node ? child : document.createTextNode(text(child)));
    });
    return node;
  }

  function get(record, path) {
    return path.split(".").reduce(function (value, part) {
      return value === undefined || value === null ? undefined : value[part];
    }, record);
  }

  function pre(value) { return el("pre", {}, [value === undefined ? "" : JSON.stringify(value, null, 1)]); }

  function once(section, data, draw) {
    var json = JSON.stringify(data);
    if (rendered[section] === json) { return; }
    rendered[section] = json;
    draw();
  }

  // Redrawing a table must not lose what the user is typing in it.
  function keepInputs(container, draw) {
    var saved = {}, focused = null;
    container.querySelectorAll("input[data-key], select[data-key]").forEach(function (input) {
      saved[input.getAttribute("data-key")] = input.value;
      if (input === document.activeElement) { focused = input.getAttribute("data-key"); }
    });
    draw();
    container.querySelectorAll("input[data-key], select[data-key]").forEach(function (input) {
      var key = input.getAttribute("data-key");
      if (key in saved) { input.value = saved[key]; }
      if (key === focused) { input.focus(); }
    });
  }

  function rows(tbody, items, makeRow, emptyText, columns) {
    clear(tbody);
    if (!items.length) {
      tbody.appendChild(el("tr", {class: "empty"}, [el("td", {colspan: columns}, [emptyText])]));
      return;
    }
    items.forEach(function (item) { tbody.appendChild(makeRow(item)); });
  }

  function draw(state, journal, clock, faults) {
    $("clock-now").textContent = clock.now;
    $("clock-offset").textContent = String(clock.offset_seconds);
    var requests = (state.access_requests && state.access_requests.items) || [];
    var runs = (state.runs && state.runs.runs) || [];
    var actions = (state.runs && state.runs.actions) || [];
    once("pending", requests.filter(function (r) { return r.status === "PENDING"; }), function () {
      drawPending(requests.filter(function (r) { return r.status === "PENDING"; }));
    });
    once("blocked", actions, function () { drawBlocked(actions, requests); });
    once("grants", requests, function () {
      drawGrants(requests.filter(function (r) { return r.status !== "PENDING"; }));
    });
    once("runs", [runs, state.runs && state.runs.events, $("run-agent-filter").value, $("run-status-filter").value],
         function () { drawRuns(runs, (state.runs && state.runs.events) || {}); });
    once("resources", state, function () { drawResources(state); });
    once("journal", [journal, $("journal-filter").value], function () { drawJournal(journal); });
    once("faults", faults, function () { drawFaults(faults); });
  }

  function drawWorkspaces(names) {
    var select = $("workspace-select");
    var have = Array.prototype.map.call(select.options, function (o) { return o.value; });
    if (names.indexOf(workspace) < 0) { names = names.concat([workspace]); }
    if (JSON.stringify(have) === JSON.stringify(names)) { return; }
    clear(select);
    names.forEach(function (name) { select.appendChild(el("option", {value: name}, [name])); });
    select.value = workspace;
  }

  function drawAgentProcesses(data) {
    $("agent-processes").hidden = !data.enabled;
    if (!data.enabled) { return; }
    once("agent-processes", data, function () {
      var list = $("agent-process-list");
      clear(list);
      if (!data.agents.length) { list.appendChild(el("p", {class: "empty"}, ["no agent process"])); return; }
      data.agents.forEach(function (a) {
        var key = agentKey(a), log = data.logs[key];
        var details = el("details", {class: "agent-process", "data-id": key, "data-phase": a.phase, open: !!openAgents[key]}, [
          el("summary", {}, [el("strong", {}, [a.name]), " · workspace ", a.workspace, " · ",
                             el("span", {class: "phase"}, [a.phase]), " · restarts ", a.restarts,
                             a.reason ? " · " + a.reason : ""]),
          el("pre", {class: "log"}, [log ? log.lines.join("\n") : "…"])
        ]);
        details.addEventListener("toggle", function () {
          var opened = details.open && !openAgents[key];
          openAgents[key] = details.open;
          if (opened) { refresh(); }  // fetch its log now, not at the next poll
        });
        list.appendChild(details);
      });
    });
  }

  function drawPending(pending) {
    var tbody = document.querySelector("#pending-requests tbody");
    keepInputs(tbody, function () {
      rows(tbody, pending, function (r) {
        var duration = el("input", {class: "duration", "data-key": "duration:" + r.id, placeholder: "e.g. 30m, 4h",
                                    "aria-label": "duration for " + r.id, size: 8});
        // The approval's scope (docs/runtime.md, "Approval scopes"); the default sends none.
        var scopes = [["", "default scope"], ["once", "once: this action"], ["agent_user_ttl", "window: user, agent, tool"]];
        if (r.run_id) { scopes.splice(2, 0, ["run", "this run"]); }
        var scope = el("select", {class: "scope", "data-key": "scope:" + r.id, "aria-label": "scope for " + r.id},
                       scopes.map(function (option) { return el("option", {value: option[0]}, [option[1]]); }));
        var reason = el("input", {class: "reason", "data-key": "reason:" + r.id, placeholder: "reason",
                                  "aria-label": "reason for " + r.id});
        return el("tr", {"data-id": r.id}, [
          el("td", {}, [r.id]), el("td", {}, [r.subject]), el("td", {}, [r.tool_id]), el("td", {}, [r.agent_id]),
          el("td", {}, [r.run_id]), el("td", {}, [r.duration]), el("td", {}, [r.created_at]),
          el("td", {}, [scope, duration, el("button", {type: "button", class: "approve", onclick: function () {
            var body = duration.value.trim() ? {duration: duration.value.trim()} : {};
            if (scope.value) { body.scope = scope.value; }
            api("POST", decisionPath(r.id, "approve"), body)
              .then(function (result) { return report("approve " + r.id, result); });
          }}, ["Approve"])]),
          el("td", {}, [reason, el("button", {type: "button", class: "reject", onclick: function () {
            var body = reason.value.trim() ? {reason: reason.value.trim()} : {};
            api("POST", decisionPath(r.id, "reject"), body)
              .then(function (result) { return report("reject " + r.id, result); });
          }}, ["Reject"])])
        ]);
      }, "nothing is waiting", 9);
    });
  }

  // The default workspace's requests are decided on the February path, as ever; a named
  // workspace's on its June path (the February API has no workspaces).
  function decisionPath(id, decision) {
    if (workspace === "default") { return "/governance/requests/" + encodeURIComponent(id) + "/" + decision; }
    return v1Base() + "/approvals/requests/" + encodeURIComponent(id) + "/" + decision;
  }

  function drawBlocked(actions, requests) {
    var blocked = actions.filter(function (a) { return a.status === "BLOCKED"; });
    rows(document.querySelector("#blocked-actions tbody"), blocked, function (a) {
      var linked = requests.filter(function (r) { return r.action_id === a.action_id; })[0];
      return el("tr", {"data-id": a.action_id}, [
        el("td", {}, [a.action_id]), el("td", {}, [a.run_id]), el("td", {}, [a.tool_id]), el("td", {}, [a.capability]),
        el("td", {}, [a.created_at]),
        el("td", {}, [el("button", {type: "button", class: "approve", onclick: function () {
          var body = a.payload_hash ? {payload_hash: a.payload_hash} : {};
          api("POST", (workspace === "default" ? "" : v1Base()) + "/runs/" + encodeURIComponent(a.run_id) + "/actions/" + encodeURIComponent(a.action_id) + "/approve", body)
            .then(function (result) { return report("approve action " + a.action_id, result); });
        }}, ["Approve"]), linked ? " (or decide request " + linked.id + ")" : ""])
      ]);
    }, "no blocked action", 6);
  }

  function drawGrants(decided) {
    rows(document.querySelector("#grants tbody"), decided.slice().reverse(), function (r) {
      return el("tr", {"data-id": r.id, "data-status": r.status}, [
        el("td", {}, [r.id]), el("td", {}, [r.subject]), el("td", {}, [r.tool_id]),
        el("td", {class: "status"}, [r.status]), el("td", {class: "scope"}, [r.scope]), el("td", {}, [r.approver_id]),
        el("td", {}, [r.expires_at]), el("td", {}, [r.reason])
      ]);
    }, "none yet", 8);
  }

  // Filter choices come from the runs themselves, so they follow whatever the spec allows.
  function syncOptions(select, values) {
    var current = select.value;
    var wanted = [""].concat(values);
    var have = Array.prototype.map.call(select.options, function (o) { return o.value; });
    if (JSON.stringify(have) === JSON.stringify(wanted)) { return; }
    clear(select);
    wanted.forEach(function (v) { select.appendChild(el("option", {value: v}, [v === "" ? "all" : v])); });
    select.value = wanted.indexOf(current) >= 0 ? current : "";
  }

  function distinct(items, field) {
    var seen = {};
    items.forEach(function (i) { if (i[field] !== undefined) { seen[i[field]] = true; } });
    return Object.keys(seen).sort();
  }

  function drawRuns(runs, events) {
    syncOptions($("run-agent-filter"), distinct(runs, "agent_id"));
    syncOptions($("run-status-filter"), distinct(runs, "status"));
    var agent = $("run-agent-filter").value, status = $("run-status-filter").value;
    var shown = runs.filter(function (r) {
      return (!agent || r.agent_id === agent) && (!status || r.status === status);
    }).slice().reverse();
    var list = $("run-list");
    clear(list);
    if (!shown.length) { list.appendChild(el("p", {class: "empty"}, ["no run"])); return; }
    shown.forEach(function (run) {
      var details = el("details", {class: "run", "data-id": run.id, "data-status": run.status, open: !!openRuns[run.id]}, [
        el("summary", {}, [el("strong", {}, [run.agent_id]), " · ", el("span", {class: "status"}, [run.status]),
                           " · user ", run.user_id, " · ", el("code", {}, [run.id]), " · updated ", run.updated_at]),
        timeline(events[run.id] || [])
      ]);
      details.addEventListener("toggle", function () { openRuns[run.id] = details.open; });
      list.appendChild(details);
    });
  }

  function timeline(events) {
    var tbody = el("tbody");
    rows(tbody, events, function (e) {
      return el("tr", {"data-seq": e.seq}, [
        el("td", {}, [e.seq]), el("td", {class: "type"}, [e.type]), el("td", {}, [e.actor]),
        el("td", {}, [e.timestamp]), el("td", {class: "data"}, [pre(e.data)])
      ]);
    }, "no event", 5);
    return el("table", {class: "timeline"}, [
      el("thead", {}, [el("tr", {}, [el("th", {}, ["seq"]), el("th", {}, ["type"]), el("th", {}, ["actor"]),
                                     el("th", {}, ["time"]), el("th", {}, ["data"])])]), tbody]);
  }

  // What each known kind shows; any other collection in the state (policies, bindings, ...)
  // gets its name or id, its status and the record as JSON.
  var KINDS = [
    ["agents", "Agents", [["namespace", "namespace"], ["name", "name"], ["phase", "status.phase"],
                          ["message", "status.message"], ["image", "spec.image"]]],
    ["tools", "Tools", [["name", "name"], ["access mode", "spec.governance.accessControl.mode"],
                        ["approval", "spec.governance.accessControl.requireApproval"], ["status", "status.phase"],
                        ["base URL", "spec.connection.baseUrl"], ["auth", "spec.connection.authentication.type"]]],
    ["model_providers", "Model providers", [["name", "name"], ["provider", "spec.provider"], ["models", "spec.models"],
                                            ["phase", "status.phase"], ["endpoint", "spec.endpoint"]]],
    ["identity_providers", "Identity providers", [["name", "name"], ["namespace", "namespace"], ["spec", "spec"]]],
    ["builds", "Builds", [["id", "id"], ["status", "status"], ["image", "image"], ["error", "error"],
                          ["created", "created_at"], ["completed", "completed_at"]]]
  ];
  var NOT_RESOURCES = ["version", "clock_offset", "runs", "access_requests", "analyses", "gateway"];

  function drawResources(state) {
    var container = $("resource-tables");
    clear(container);
    var known = KINDS.map(function (k) { return k[0]; });
    var kinds = KINDS.concat(Object.keys(state).filter(function (key) {
      return known.indexOf(key) < 0 && NOT_RESOURCES.indexOf(key) < 0 && state[key] && Array.isArray(state[key].items);
    }).map(function (key) {
      return [key, key.replace(/_/g, " "), [["name", "name"], ["id", "id"], ["status", "status"], ["record", ""]]];
    }));
    kinds.forEach(function (kind) {
      var items = (state[kind[0]] && state[kind[0]].items) || [];
      var tbody = el("tbody");
      rows(tbody, items, function (item) {
        return el("tr", {"data-name": item.name || item.id}, kind[2].map(function (col) {
          var value = col[1] ? get(item, col[1]) : item;
          if (!col[1]) {  // the whole record (catalog entries are long): collapsed, names first
            return el("td", {}, [el("details", {class: "record"}, [el("summary", {}, ["JSON"]), pre(value)])]);
          }
          return el("td", {}, [typeof value === "object" && value !== null ? pre(value) : value]);
        }));
      }, "none", kind[2].length);
      container.appendChild(el("div", {class: "resource", id: "resource-" + kind[0]}, [
        el("h3", {}, [kind[1] + " (" + items.length + ")"]),
        el("table", {}, [el("thead", {}, [el("tr", {}, kind[2].map(function (c) { return el("th", {}, [c[0]]); }))]), tbody])
      ]));
    });
  }

  // A one-line preview of an answer for its collapsed row (the body itself is one click away).
  function preview(value) {
    var line = JSON.stringify(value);
    return line.length > 60 ? line.slice(0, 59) + "\u2026" : line;
  }

  function drawJournal(entries) {
    var filter = $("journal-filter").value.trim().toLowerCase();
    var tbody = document.querySelector("#journal tbody");
    // New requests redraw the table every poll: what the user opened stays open.
    var open = {};
    tbody.querySelectorAll("details[open][data-key]").forEach(function (d) { open[d.getAttribute("data-key")] = true; });
    function collapsed(key, summary, value) {
      return el("details", {"data-key": key, open: open[key] === true}, [el("summary", {}, [summary]), pre(value)]);
    }
    var shown = entries.slice().reverse().filter(function (e) {
      return !filter || JSON.stringify([e.method, e.path, String(e.status), e.query, e.body, e.response]).toLowerCase().indexOf(filter) >= 0;
    }).slice(0, 200);
    rows(tbody, shown, function (e) {
      return el("tr", {"data-seq": e.seq}, [
        el("td", {}, [e.seq]), el("td", {class: "time"}, [e.time]), el("td", {}, [e.method]), el("td", {}, [e.path]),
        el("td", {}, [e.status]),
        el("td", {}, [pre(e.query)]),
        el("td", {}, [collapsed(e.seq + "/headers", Object.keys(e.headers || {}).length + " headers", e.headers)]),
        el("td", {}, [pre(e.body)]),
        el("td", {class: "response"}, [e.response === null || e.response === undefined ? "" :
                                       collapsed(e.seq + "/response", preview(e.response), e.response)])
      ]);
    }, filter ? "no request matches" : "no request yet", 9);
  }

  function drawFaults(faults) {
    rows(document.querySelector("#faults tbody"), faults, function (f) {
      return el("tr", {"data-id": f.id}, [
        el("td", {}, [f.id]), el("td", {}, [f.method]), el("td", {}, [f.path]), el("td", {}, [f.status]),
        el("td", {}, [f.error]), el("td", {}, [f.latency_ms]), el("td", {}, [f.times === null ? "every call" : f.times]),
        el("td", {}, [f.hits])
      ]);
    }, "no fault rule", 8);
  }

  // --- the controls -----------------------------------------------------------------------

  function numberOrNull(input) {
    return input.value.trim() === "" ? null : Number(input.value);
  }

  function wire() {
    $("login-form").addEventListener("submit", function (event) {
      event.preventDefault();
      keys = {admin: $("admin-key").value, api: $("api-key").value};
      window.sessionStorage.setItem(STORE, JSON.stringify(keys));
      $("admin-key").value = "";
      $("api-key").value = "";
      refresh();
    });
    $("logout-button").addEventListener("click", function () {
      keys = {};
      window.sessionStorage.removeItem(STORE);
      needKey();
    });
    $("clock-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var seconds = Number($("advance-seconds").value);
      control("POST", scoped("clock/advance"), {seconds: seconds}).then(function (r) { return report("advance " + seconds + " s", r); });
    });
    $("rate-form").addEventListener("submit", function (event) {
      event.preventDefault();
      control("PUT", "rate-limit", {per_minute: numberOrNull($("rate-per-minute"))}).then(function (r) {
        if (r.ok) { $("rate-current").textContent = "now: " + (r.data.per_minute === null ? "off" : r.data.per_minute + "/min"); }
        return report("rate limit", r);
      });
    });
    $("reset-button").addEventListener("click", function () {
      var button = $("reset-button");
      if (!button.classList.contains("armed")) {  // two clicks: a reset cannot be undone
        button.classList.add("armed");
        button.textContent = "Click again to reset";
        window.setTimeout(function () { button.classList.remove("armed"); button.textContent = "Reset everything"; }, 4000);
        return;
      }
      button.classList.remove("armed");
      button.textContent = "Reset everything";
      control("POST", scoped("reset")).then(function (r) { return report("reset", r); });
    });
    $("export-button").addEventListener("click", function () {
      control("GET", scoped("state")).then(function (r) {
        if (!r.ok) { return report("export", r); }
        var url = URL.createObjectURL(new Blob([JSON.stringify(r.data, null, 1)], {type: "application/json"}));
        var link = el("a", {href: url, download: "runagents-mock-state.json"});
        document.body.appendChild(link);
        link.click();
        link.remove();
        window.setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
        notice("state exported", false);
      });
    });
    $("import-button").addEventListener("click", function () {
      var file = $("import-file").files[0];
      if (!file) { notice("choose a state file first", true); return; }
      file.text().then(function (raw) {
        return control("PUT", scoped("state"), raw).then(function (r) { return report("import " + file.name, r); });
      });
    });
    $("fault-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {method: $("fault-method").value.trim() || "*", path: $("fault-path").value.trim()};
      var status = numberOrNull($("fault-status")), latency = numberOrNull($("fault-latency"));
      var times = numberOrNull($("fault-times"));
      if (status !== null) { body.status = status; }
      if (latency !== null) { body.latency_ms = latency; }
      if (times !== null) { body.times = times; }
      if ($("fault-error").value.trim()) { body.error = $("fault-error").value.trim(); }
      control("POST", "faults", body).then(function (r) { return report("add fault", r); });
    });
    $("faults-clear").addEventListener("click", function () {
      control("DELETE", "faults").then(function (r) { return report("clear faults", r); });
    });
    $("journal-clear").addEventListener("click", function () {
      control("DELETE", scoped("journal")).then(function (r) { return report("clear journal", r); });
    });
    $("journal-filter").addEventListener("input", function () { refresh(); });
    $("run-agent-filter").addEventListener("change", function () { refresh(); });
    $("run-status-filter").addEventListener("change", function () { refresh(); });
    $("workspace-select").addEventListener("change", function () {
      workspace = $("workspace-select").value;
      rendered = {};
      refresh();
    });
  }

  wire();
  refresh();
})();
