// viksa dev dashboard: run forms, decisions, faults and live updates. No dependencies.
// Every value from the server reaches the page through textContent, never as HTML, and
// with its hidden characters shown (visible).
"use strict";

(function () {
  // The action token: answered once, by the sign-in, and kept in this origin's storage
  // (a cookie would reach every port of this host; no page carries the token).
  const TOKEN_KEY = "viksa-dashboard-csrf";
  const handed = document.querySelector('meta[name="viksa-csrf"]');
  if (handed) {
    try { window.localStorage.setItem(TOKEN_KEY, handed.content); } catch (e) { /* then
      every action answers "sign in again" */ }
    window.location.replace("/");
    return;
  }
  // Read at each request: a sign-in in another tab replaces the session and its token.
  function token() {
    try { return window.localStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  // What a reader cannot see or what reorders the text after it, as \uXXXX: the list of
  // the server's pages (_html._HIDDEN), so a value reads here as it does there.
  const HIDDEN = new RegExp(
    "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\xad\\u034f\\u0600-\\u0605\\u061c\\u06dd\\u070f" +
    "\\u0890\\u0891\\u08e2\\u115f\\u1160\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064" +
    "\\u2066-\\u206f\\u3164\\ufeff\\uffa0\\ufff9-\\ufffb\\u{110bd}\\u{110cd}" +
    "\\u{13430}-\\u{1343f}\\u{1bca0}-\\u{1bca3}\\u{1d173}-\\u{1d17a}\\u{e0001}" +
    "\\u{e0020}-\\u{e007f}\\u{e0100}-\\u{e01ef}]", "gu");

  function visible(text) {
    return String(text).replace(HIDDEN, function (found) {
      let shown = "";
      for (let i = 0; i < found.length; i++) {
        shown += "\\u" + found.charCodeAt(i).toString(16).padStart(4, "0");
      }
      return shown;
    });
  }

  function toast(text) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = visible(text);
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.textContent = ""; }, 5000);
  }

  async function act(method, path, body) {
    const headers = { "X-Viksa-CSRF": token() || "" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const answer = await fetch(path, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await answer.json(); } catch (e) { data = null; }
    return { ok: answer.ok, status: answer.status, data: data };
  }

  function describe(detail) {
    if (detail == null) return "The request failed.";
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map(function (item) {
        const where = (item.loc || []).filter(function (p) { return p !== "body"; }).join(".");
        return (where ? where + ": " : "") + item.msg;
      }).join("; ");
    }
    return detail.message || JSON.stringify(detail);
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = visible(text);
    if (cls) node.className = cls;
    return node;
  }

  function pretty(value) {
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function codeBlock(label, value) {
    const pre = el("pre", pretty(value), "code");
    pre.setAttribute("tabindex", "0");
    pre.setAttribute("aria-label", label);
    return pre;
  }

  // -- the run form: checks each input against its declared rules, then runs -----------

  function checkControl(control) {
    const type = control.dataset.type;
    const required = control.dataset.required === "true";
    const raw = control.value;
    if (raw === "") {
      return required ? { error: "A value is required." } : { skip: true };
    }
    if (control.dataset.choice === "json") {
      try { return { value: JSON.parse(raw) }; } catch (e) { return { value: raw }; }
    }
    let value = raw;
    if (type === "integer" || type === "float") {
      value = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(value)) return { error: "Enter a number." };
      if (type === "integer" && !Number.isInteger(value)) return { error: "Enter a whole number." };
      if (control.dataset.min !== undefined && value < Number(control.dataset.min)) {
        return { error: "At least " + control.dataset.min + "." };
      }
      if (control.dataset.max !== undefined && value > Number(control.dataset.max)) {
        return { error: "At most " + control.dataset.max + "." };
      }
      return { value: value };
    }
    if (type === "dict" || type === "list") {
      try { value = JSON.parse(raw); } catch (e) { return { error: "Enter valid JSON." }; }
      const isList = Array.isArray(value);
      const isDict = value !== null && typeof value === "object" && !isList;
      if (type === "list" && !isList) return { error: "Enter a JSON list, e.g. [1, 2]." };
      if (type === "dict" && !isDict) return { error: 'Enter a JSON object, e.g. {"a": 1}.' };
      return { value: value };
    }
    if (control.dataset.minlength !== undefined && raw.length < Number(control.dataset.minlength)) {
      return { error: "At least " + control.dataset.minlength + " characters." };
    }
    if (control.dataset.maxlength !== undefined && raw.length > Number(control.dataset.maxlength)) {
      return { error: "At most " + control.dataset.maxlength + " characters." };
    }
    // A pattern is the platform's to check: the agent wrote it, and a pattern built to
    // backtrack would freeze this tab (JavaScript's regular expressions are not bounded),
    // besides reading some patterns unlike Python. The platform's 422 says why.
    return { value: raw };
  }

  function showResult(box, result) {
    box.replaceChildren();
    box.appendChild(el("h2", "Result"));
    const facts = el("p");
    facts.appendChild(el("span", result.status, "badge " + (result.status === "completed" ? "ok" : "bad")));
    facts.appendChild(document.createTextNode(
      " " + (result.duration_ms == null ? "" : result.duration_ms + " ms") + " · "));
    const link = el("a", result.execution_id);
    link.href = "/dashboard/executions/" + encodeURIComponent(result.execution_id);
    facts.appendChild(link);
    box.appendChild(facts);
    if (result.status === "completed") {
      box.appendChild(codeBlock("Result", result.response));
    } else if (result.status === "awaiting_approval") {
      box.appendChild(el("p", "Waiting for an approval: decide on the Approvals page."));
    } else {
      box.appendChild(el("p", (result.error_kind || "error") + ": " + (result.error || ""), "error-text"));
      if (result.traceback) {
        box.appendChild(el("h3", "Traceback"));
        box.appendChild(codeBlock("Traceback", result.traceback));
      }
    }
    if (result.output) {
      box.appendChild(el("h3", "Output (stdout and stderr)"));
      box.appendChild(codeBlock("Output", result.output));
    }
    box.focus();
  }

  // Listeners sit on the document: a page's body arrives after this script runs (fill).
  document.addEventListener("submit", async function (event) {
    const runForm = event.target;
    if (!(runForm instanceof HTMLFormElement) || runForm.id !== "run-form") return;
    {
      event.preventDefault();
      const summary = document.getElementById("form-errors");
      const box = document.getElementById("run-result");
      box.setAttribute("tabindex", "-1");
      summary.textContent = "";
      // No prototype: an input named "__proto__" is an input like any other.
      const inputs = Object.create(null);
      const problems = [];
      runForm.querySelectorAll("[data-type]").forEach(function (control) {
        const checked = checkControl(control);
        const message = document.getElementById(control.id + "-error");
        control.setAttribute("aria-invalid", checked.error ? "true" : "false");
        if (message) message.textContent = checked.error || "";
        if (checked.error) problems.push(control);
        else if (!checked.skip) inputs[control.name] = checked.value;
      });
      if (problems.length) {
        summary.textContent = problems.length === 1
          ? "One input needs a fix before running."
          : problems.length + " inputs need a fix before running.";
        problems[0].focus();
        return;
      }
      const button = runForm.querySelector("button[type=submit]");
      button.disabled = true;
      box.replaceChildren(el("p", "Running…", "muted"));
      try {
        const answer = await act("POST", "/dashboard/api/run", {
          agent_id: runForm.dataset.agentId,
          endpoint: runForm.dataset.endpoint,
          inputs: inputs,
        });
        if (answer.ok) showResult(box, answer.data);
        else {
          box.replaceChildren();
          summary.textContent = visible(describe(answer.data && answer.data.detail));
        }
      } catch (e) {
        box.replaceChildren();
        summary.textContent = "The platform did not answer: is viksa dev still running?";
      } finally {
        button.disabled = false;
      }
    }
  });

  // -- approvals, faults, sign out ------------------------------------------------------

  document.addEventListener("click", async function (event) {
    const target = event.target;
    if (!(target instanceof HTMLElement)) return;
    const decision = target.dataset.decision;
    const holder = target.closest("[data-approval-id]");
    if (decision && holder) {
      const id = holder.dataset.approvalId;
      const comment = holder.querySelector("input");
      holder.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      toast(decision === "approve" ? "Approving and running…" : "Rejecting…");
      const answer = await act("POST", "/dashboard/api/approvals/" + encodeURIComponent(id) + "/" + decision,
        { comment: comment ? comment.value : "" });
      if (answer.ok) {
        const run = answer.data.execution;
        const said = "Approval " + answer.data.status + (run ? ": execution " + run.status : "") + ".";
        toast(said);
        // The row stays where it is (the list updates once the pointer leaves it).
        holder.replaceChildren(el("p", said, "muted"));
      } else {
        toast(describe(answer.data && answer.data.detail));
      }
      refreshLive();
    } else if (target.id === "clear-faults") {
      const answer = await act("DELETE", "/dashboard/api/faults");
      toast(answer.ok ? "Every fault is cleared." : describe(answer.data && answer.data.detail));
      refreshLive();
    } else if (target.id === "sign-out") {
      await act("POST", "/dashboard/api/sign-out");
      try { window.localStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing kept */ }
      window.location.assign("/dashboard/sign-in");
    }
  });

  document.addEventListener("submit", async function (event) {
    const faultForm = event.target;
    if (!(faultForm instanceof HTMLFormElement) || faultForm.id !== "fault-form") return;
    {
      event.preventDefault();
      const input = document.getElementById("fault-spec");
      const message = document.getElementById("fault-spec-error");
      const answer = await act("POST", "/dashboard/api/faults", { spec: input.value });
      input.setAttribute("aria-invalid", answer.ok ? "false" : "true");
      message.textContent = answer.ok ? "" : visible(describe(answer.data && answer.data.detail));
      if (answer.ok) {
        input.value = "";
        toast("Fault armed.");
        refreshLive();
      } else {
        input.focus();
      }
    }
  });

  // -- live updates: each [data-live] region is fetched again when something changes ----

  let pending = null;
  const waiting = new WeakSet();

  // A region under the pointer or holding the focus is not replaced: a row moving up as
  // the user clicks would take the click (approve another request). It is marked stale
  // and updates once the pointer or the focus leaves it.
  function holdBack(region) {
    region.dataset.stale = "true";
    if (waiting.has(region)) return;
    waiting.add(region);
    const again = function () { if (region.dataset.stale) scheduleRefresh(); };
    region.addEventListener("pointerleave", again);
    region.addEventListener("focusout", again);
  }

  async function refreshLive() {
    const regions = document.querySelectorAll("[data-live][id]");
    if (!regions.length) return;
    const answer = await fetch(window.location.href, {
      credentials: "same-origin",
      headers: { "X-Viksa-CSRF": token() || "" },
    });
    if (!answer.ok) return;
    const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
    regions.forEach(function (region) {
      const next = fresh.getElementById(region.id);
      if (!next) return;
      if (region.matches(":hover") || region.contains(document.activeElement)) holdBack(region);
      else region.replaceWith(next);
    });
  }

  function scheduleRefresh() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; refreshLive(); }, 150);
  }

  function goLive() {
    const state = document.getElementById("live-state");
    const source = new EventSource("/dashboard/events?csrf_token=" + encodeURIComponent(token() || ""));
    source.addEventListener("open", function () { if (state) state.textContent = "live"; });
    source.addEventListener("error", function () { if (state) state.textContent = "reconnecting"; });
    source.addEventListener("execution", function (event) {
      let notice = null;
      try { notice = JSON.parse(event.data); } catch (e) { return; }
      if (state) state.textContent = visible("live · " + notice.endpoint + " " + notice.status);
      scheduleRefresh();
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // -- a page's body: asked again with the token ------------------------------------------

  function ready() {
    document.documentElement.dataset.ready = "true";
    if (token() && document.getElementById("sign-out") && window.EventSource) goLive();
  }

  function signInAgain(main, why) {
    const link = el("a", "Sign in again");
    link.href = "/dashboard/sign-in";
    const line = el("p", why + " ");
    line.appendChild(link);
    main.replaceChildren(el("h1", "Not shown"), line);
    ready();
  }

  // A navigation sends the cookie alone, which every port of this host receives too: the
  // page answers an empty shell, and the project's data comes to this request only.
  async function fill() {
    const main = document.getElementById("main");
    const csrf = token();
    if (!csrf) {
      signInAgain(main, "This browser holds no dashboard token (its site data was cleared?).");
      return;
    }
    let answer = null;
    try {
      answer = await fetch(window.location.href, {
        credentials: "same-origin",
        headers: { "X-Viksa-CSRF": csrf },
      });
    } catch (e) {
      signInAgain(main, "The platform did not answer: is viksa dev still running?");
      return;
    }
    if (answer.redirected) {  // the session has ended: the sign-in page
      window.location.replace(answer.url);
      return;
    }
    if ((answer.headers.get("content-type") || "").indexOf("text/html") !== 0) {
      let data = null;
      try { data = await answer.json(); } catch (e) { data = null; }
      main.replaceChildren(el("h1", "Not shown"), el("p", describe(data && data.detail), "error-text"));
      ready();
      return;
    }
    const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
    if (fresh.querySelector('meta[name="viksa-shell"]')) {
      signInAgain(main, "This browser's dashboard token is not its session's.");
      return;
    }
    document.title = fresh.title;
    document.body.replaceWith(document.adoptNode(fresh.body));
    ready();
  }

  if (document.querySelector('meta[name="viksa-shell"]')) fill();
  else ready();
})();
