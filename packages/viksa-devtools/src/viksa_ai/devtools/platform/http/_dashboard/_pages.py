"""The body of each dashboard page, from the records the services hand over."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from viksa_ai.devtools.platform.http._dashboard._html import (
    attrs,
    badge,
    esc,
    esc_exact,
    json_block,
    table,
    when,
)
from viksa_ai.devtools.platform.services._engine import EXECUTION_STATUSES
from viksa_ai.devtools.platform.services._overview import AgentView, EndpointInput
from viksa_ai.devtools.platform.services._triggers import trigger_enabled
from viksa_ai.devtools.platform.store._store import Doc

__all__ = [
    "agents_body",
    "approvals_body",
    "execution_body",
    "executions_body",
    "faults_body",
    "run_body",
    "schedules_body",
    "secrets_body",
    "shell_body",
    "sign_in_body",
    "signed_in_body",
    "triggers_body",
]


# How much of an approval's inputs its row shows: callers of a webhook choose how many
# approvals wait and how large their inputs are (up to a request body each).
_SHOWN_INPUT_CHARS = 2_000


def _constraints(spec: EndpointInput) -> str:
    parts = []
    if spec.allowed_values is not None:
        parts.append("one of " + ", ".join(map(str, spec.allowed_values)))
    if spec.min_value is not None:
        parts.append(f">= {spec.min_value}")
    if spec.max_value is not None:
        parts.append(f"<= {spec.max_value}")
    if spec.min_length is not None:
        parts.append(f"length >= {spec.min_length}")
    if spec.max_length is not None:
        parts.append(f"length <= {spec.max_length}")
    if spec.pattern is not None:
        parts.append(f"matches {spec.pattern}")
    if spec.default is not None:
        parts.append(f"default {spec.default}")
    return "; ".join(parts)


def _input_list(inputs: Sequence[EndpointInput]) -> str:
    if not inputs:
        return '<span class="muted">no inputs</span>'
    items = "".join(
        f"<li><code>{esc(i.name)}</code>: {esc(i.type)}"
        f"{'' if i.required else ' (optional)'}"
        f"{' <span class=muted>' + esc(_constraints(i)) + '</span>' if _constraints(i) else ''}"
        "</li>"
        for i in inputs
    )
    return f'<ul class="plain">{items}</ul>'


def _output_list(outputs: Sequence[Doc]) -> str:
    if not outputs:
        return '<span class="muted">not declared</span>'
    items = "".join(
        f"<li><code>{esc(o.get('name'))}</code>"
        f"{': ' + esc(o.get('type')) if o.get('type') else ''}</li>"
        for o in outputs
    )
    return f'<ul class="plain">{items}</ul>'


def agents_body(views: Sequence[AgentView]) -> str:
    """Each agent with its state and the endpoints it serves."""
    if not views:
        return (
            '<p class="empty">No agent in this project yet. Create one with the client or '
            "start <code>viksa dev --with-examples DIR</code>.</p>"
        )
    cards = []
    for view in views:
        agent = view.agent
        deployed = view.deployment
        rows = []
        for endpoint in view.endpoints:
            run = (
                f'<a href="/dashboard/agents/{esc(agent["id"])}/endpoints/'
                f'{esc_exact(endpoint["name"])}">Run<span class="visually-hidden"> '
                f"{esc(endpoint['endpoint'])}</span></a>"
                if deployed
                else '<span class="muted">deploy first</span>'
            )
            rows.append(
                (
                    f"<code>{esc(endpoint['endpoint'])}</code>"
                    f'<div class="muted">{esc(endpoint.get("description"))}</div>',
                    badge(endpoint.get("status", "enabled")),
                    _input_list(view.inputs_of(endpoint)),
                    _output_list(view.outputs_of(endpoint)),
                    run,
                )
            )
        state = (
            f"deployed {when(deployed.get('deployed_at') or deployed.get('reconciled_at'))}"
            if deployed
            else "not deployed"
        )
        cards.append(
            f'<section class="card" aria-labelledby="agent-{esc(agent["id"])}">'
            f'<h2 id="agent-{esc(agent["id"])}">{esc(agent["agent_name"])} '
            f'<code class="muted">{esc(agent["agent_alias"])}</code></h2>'
            f'<p class="facts">{badge(agent["status"])} build {badge(agent.get("build_status"))}'
            f" · {state} · revision {esc(agent.get('revision'))}</p>"
            f'<p class="muted">{esc(agent.get("agent_description"))}</p>'
            + table(
                f"Endpoints of {agent['agent_alias']}",
                ("Endpoint", "Status", "Inputs", "Outputs", ""),
                rows,
                empty="This agent declares no endpoint.",
            )
            + "</section>"
        )
    return "".join(cards)


def _control(spec: EndpointInput) -> str:
    """The form control of one input, carrying its rules for the page's checks."""
    ident = f"input-{spec.name}"
    rules = attrs(
        id=ident,
        name=spec.name,
        data_type=spec.type,
        data_required="true" if spec.required else "false",
        data_min=spec.min_value,
        data_max=spec.max_value,
        data_minlength=spec.min_length,
        data_maxlength=spec.max_length,
        required=spec.required,
        aria_describedby=f"{ident}-help {ident}-error",
    )
    if spec.allowed_values is not None or spec.type == "boolean":
        values = spec.allowed_values if spec.allowed_values is not None else [True, False]
        options = "" if spec.required else '<option value="">(leave out)</option>'
        for value in values:
            # The value is always JSON, so the page sends the string "1" as a string.
            encoded = json.dumps(value, ensure_ascii=False)
            chosen = " selected" if spec.default is not None and value == spec.default else ""
            label = esc(_json_text(value))
            options += f'<option value="{esc_exact(encoded)}"{chosen}>{label}</option>'
        return f'<select {rules} data-choice="json">{options}</select>'
    default = "" if spec.default is None else _json_text(spec.default)
    if spec.type in ("integer", "float"):
        numeric = attrs(
            type="number",
            step="1" if spec.type == "integer" else "any",
            min=spec.min_value,
            max=spec.max_value,
            value=default or None,
        )
        return f"<input {rules} {numeric}>"
    if spec.type in ("dict", "list"):
        placeholder = "{}" if spec.type == "dict" else "[]"
        return (
            f'<textarea {rules} rows="4" spellcheck="false" placeholder="{placeholder}">'
            f"{esc(default)}</textarea>"
        )
    if spec.max_length is not None and spec.max_length <= 200:
        text_rules = attrs(
            type="text",
            maxlength=spec.max_length,
            minlength=spec.min_length,
            value=spec.default,
        )
        return f"<input {rules} {text_rules}>"
    return f'<textarea {rules} rows="5">{esc(spec.default)}</textarea>'


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def run_body(view: AgentView, endpoint: Doc) -> str:
    """The run form of one endpoint, generated from its declared inputs."""
    inputs = view.inputs_of(endpoint)
    fields = []
    for spec in inputs:
        ident = f"input-{spec.name}"
        help_text = " · ".join(
            filter(
                None,
                [
                    spec.type,
                    "required" if spec.required else "optional",
                    _constraints(spec),
                    spec.description,
                ],
            )
        )
        fields.append(
            f'<div class="field"><label for="{esc_exact(ident)}">{esc(spec.name)}</label>'
            f"{_control(spec)}"
            f'<p class="help" id="{esc_exact(ident)}-help">{esc(help_text)}</p>'
            f'<p class="error" id="{esc_exact(ident)}-error" aria-live="polite"></p></div>'
        )
    form_rules = attrs(
        id="run-form",
        data_agent_id=view.agent["id"],
        data_endpoint=endpoint["endpoint"],
        novalidate=True,
    )
    approval = (
        '<p class="note">This endpoint needs an approval: a run waits on the '
        '<a href="/dashboard/approvals">Approvals</a> page.</p>'
        if (endpoint.get("execution_config") or {}).get("requires_approval")
        else ""
    )
    return (
        f'<p><a href="/">Agents</a> / {esc(view.agent["agent_alias"])} / '
        f"<code>{esc(endpoint['endpoint'])}</code></p>"
        f'<p class="muted">{esc(endpoint.get("description"))}</p>{approval}'
        f"<form {form_rules}>"
        + ("".join(fields) or '<p class="muted">This endpoint takes no input.</p>')
        + '<div id="form-errors" role="alert"></div>'
        '<button type="submit">Run</button></form>'
        '<section id="run-result" aria-live="polite" aria-label="Result"></section>'
    )


def _duration(record: Mapping[str, Any]) -> str:
    ms = record.get("duration_ms")
    return "-" if ms is None else f"{ms} ms"


def executions_body(
    records: Sequence[Doc],
    total: int,
    *,
    agents: Mapping[str, str],
    agent_id: str | None,
    status: str | None,
    since: str | None,
) -> str:
    """The filter form and the table of executions, newest first (refreshed live)."""
    agent_options = '<option value="">any agent</option>' + "".join(
        f'<option value="{esc_exact(i)}"{" selected" if i == agent_id else ""}>'
        f"{esc(alias)}</option>"
        for i, alias in agents.items()
    )
    status_options = '<option value="">any status</option>' + "".join(
        f'<option value="{s}"{" selected" if s == status else ""}>{s}</option>'
        for s in EXECUTION_STATUSES
    )
    form = (
        '<form class="filters" method="get" action="/dashboard/executions">'
        f'<label for="f-agent">Agent</label><select id="f-agent" name="agent_id">{agent_options}'
        f'</select><label for="f-status">Status</label><select id="f-status" name="status">'
        f'{status_options}</select><label for="f-since">Since (UTC)</label>'
        f'<input id="f-since" name="since" type="datetime-local" step="1" '
        f'value="{esc_exact(since)}"><button type="submit">Filter</button></form>'
    )
    rows = [
        (
            f'<a href="/dashboard/executions/{esc(r["id"])}">{esc(r["id"])}</a>',
            esc(agents.get(r["agent_id"], r["agent_id"])),
            f"<code>{esc(r['endpoint'])}</code>",
            badge(r["status"]),
            esc(_duration(r)),
            esc(r.get("source")),
            when(r.get("created_at")),
        )
        for r in records
    ]
    listing = table(
        "Executions",
        ("Execution", "Agent", "Endpoint", "Status", "Duration", "Source", "Created"),
        rows,
        empty="No execution matches.",
    )
    shown = f'<p class="muted">{len(records)} of {total} shown, newest first.</p>'
    return f'{form}<section id="executions" data-live aria-live="polite">{shown}{listing}</section>'


def execution_body(record: Doc, alias: str, *, timeline: str = "") -> str:
    """Everything about one execution: inputs, result or error, output, ``timeline``
    (its spans, already rendered), envelope."""
    facts = [
        ("Agent", esc(alias)),
        ("Endpoint", f"<code>{esc(record['endpoint'])}</code>"),
        ("Status", badge(record["status"])),
        ("Duration", esc(_duration(record))),
        ("Source", esc(record.get("source"))),
        ("Created", when(record.get("created_at"))),
        ("Finished", when(record.get("finished_at"))),
    ]
    if record.get("approval_id"):
        facts.append(("Approval", esc(record["approval_id"])))
    facts_html = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    parts = [f'<dl class="facts-list">{facts_html}</dl>']
    parts.append("<h2>Inputs</h2>" + json_block(record.get("inputs") or {}, label="Inputs"))
    if record.get("error"):
        parts.append(
            f'<h2>Error</h2><p class="error-text">{esc(record.get("error_kind"))}: '
            f"{esc(record['error'])}</p>"
        )
        if record.get("traceback"):
            parts.append("<h2>Traceback</h2>" + json_block(record["traceback"], label="Traceback"))
    elif record["status"] == "completed":
        parts.append("<h2>Result</h2>" + json_block(record.get("response"), label="Result"))
    output = record.get("output")
    parts.append(
        "<h2>Output (stdout and stderr)</h2>"
        + (
            json_block(output, label="Output")
            if output
            else '<p class="muted">The endpoint wrote nothing.</p>'
        )
    )
    parts.append(timeline)
    envelope = record.get("envelope")
    parts.append(
        "<h2>A2A envelope</h2>"
        + (
            json_block(envelope, label="A2A envelope")
            if envelope
            else '<p class="muted">No envelope: a top-level call.</p>'
        )
    )
    return f'<section id="execution" data-live>{"".join(parts)}</section>'


def approvals_body(pending: Sequence[Doc], total: int, agents: Mapping[str, str]) -> str:
    """The oldest approvals waiting for a decision (of ``total``), each with approve and
    reject, and the start of its inputs (its execution's page shows them all)."""
    rows = []
    for approval in pending:
        ident = esc(approval["id"])
        rows.append(
            (
                f"{esc(agents.get(approval['agent_id'], approval['agent_id']))}"
                f"<div><code>{esc(approval['endpoint'])}</code></div>",
                json_block(
                    approval.get("inputs") or {},
                    label="Inputs",
                    limit=_SHOWN_INPUT_CHARS,
                    more=f"/dashboard/executions/{approval['execution_id']}",
                ),
                when(approval.get("requested_at")),
                f'<a href="/dashboard/executions/{esc(approval["execution_id"])}">'
                f"{esc(approval['execution_id'])}</a>",
                f'<div class="decide" data-approval-id="{ident}">'
                f'<label for="comment-{ident}">Comment</label>'
                f'<input id="comment-{ident}" type="text" maxlength="500">'
                f'<button type="button" data-decision="approve">Approve</button>'
                f'<button type="button" data-decision="reject" class="danger">Reject</button>'
                "</div>",
            )
        )
    listing = table(
        "Approvals waiting",
        ("Endpoint", "Inputs", "Requested", "Execution", "Decision"),
        rows,
        empty="No approval is waiting.",
    )
    count = (
        f'<p class="note">{total} approvals are waiting: the oldest {len(pending)} are shown.</p>'
        if total > len(pending)
        else ""
    )
    return f'<section id="approvals" data-live>{count}{listing}</section>'


def triggers_body(triggers: Sequence[Doc], deliveries: Sequence[Doc]) -> str:
    """The webhook triggers and the executions they started."""
    rows = [
        (
            esc(t.get("name")),
            f"<code>{esc(t.get('endpoint'))}</code>",
            badge("enabled" if trigger_enabled(t) else "disabled"),
            f"<code>{esc(t.get('webhook_url'))}</code>",
            esc(t.get("execution_count", 0)),
            when(t.get("last_triggered_at")),
        )
        for t in triggers
    ]
    delivered = [
        (
            f'<a href="/dashboard/executions/{esc(r["id"])}">{esc(r["id"])}</a>',
            esc(r.get("trigger_id")),
            esc(r.get("source")),
            badge(r["status"]),
            when(r.get("created_at")),
        )
        for r in deliveries
    ]
    return (
        '<section id="triggers" data-live><h2>Triggers</h2>'
        + table(
            "Triggers",
            ("Name", "Endpoint", "State", "Webhook", "Calls", "Last call"),
            rows,
            empty="No trigger in this project.",
        )
        + "<h2>Webhook deliveries</h2>"
        + table(
            "Webhook deliveries",
            ("Execution", "Trigger", "Source", "Status", "Received"),
            delivered,
            empty="No webhook delivery yet.",
        )
        + "</section>"
    )


def schedules_body(schedules: Sequence[Doc], names: Mapping[str, str]) -> str:
    """The schedules with their next run."""
    rows = []
    for s in schedules:
        target = (
            f"workflow {esc(s['workflow_id'])}"
            if s.get("workflow_id")
            else f"{esc(names.get(s.get('agent_id', ''), s.get('agent_id')))} "
            f"<code>{esc(s.get('endpoint'))}</code>"
        )
        timing = (
            f"every {esc(s['interval_seconds'])} s"
            if s.get("interval_seconds")
            else f"cron <code>{esc(s.get('cron'))}</code> (run now only, locally)"
        )
        rows.append(
            (
                esc(s.get("name")),
                target,
                timing,
                badge(s.get("status")),
                when(s.get("next_run_at")),
                when(s.get("last_run_at")),
                esc(s.get("run_count", 0)),
                esc(s.get("last_error") or ""),
            )
        )
    listing = table(
        "Schedules",
        ("Name", "Runs", "When", "State", "Next run", "Last run", "Runs so far", "Last error"),
        rows,
        empty="No schedule in this project.",
    )
    return f'<section id="schedules" data-live>{listing}</section>'


def secrets_body(secrets: Sequence[Doc]) -> str:
    """The vault's secrets by name (values never reach the page)."""
    rows = [
        (
            f"<code>{esc(s['name'])}</code>",
            esc(s.get("description") or ""),
            when(s.get("created_at")),
            when(s.get("updated_at")),
        )
        for s in secrets
    ]
    return '<p class="muted">Secret values are never sent to this page.</p>' + table(
        "Secrets",
        ("Name", "Description", "Created", "Updated"),
        rows,
        empty="The vault of this project is empty.",
    )


def faults_body(armed: Sequence[Doc]) -> str:
    """The run-wide faults in force, a form to arm one and a button to clear them."""
    rows = [(f"<code>{esc(_spec_text(f))}</code>", json_block(f, label="Fault")) for f in armed]
    listing = table("Faults in force", ("Fault", "Details"), rows, empty="No fault is armed.")
    return (
        '<section id="faults" data-live>' + listing + "</section>"
        '<form id="fault-form" novalidate><div class="field">'
        '<label for="fault-spec">Arm a fault</label>'
        '<input id="fault-spec" name="spec" type="text" required '
        'aria-describedby="fault-help" placeholder="status=503;count=2;path=/pulse">'
        '<p class="help" id="fault-help">The <code>X-Viksa-Fault</code> syntax: status, delay, '
        "drop, expire-token, count, method, path. API requests fail as told; this dashboard "
        "never does.</p>"
        '<p class="error" id="fault-spec-error" aria-live="polite"></p></div>'
        '<button type="submit">Arm</button> '
        '<button type="button" id="clear-faults" class="danger">Clear all faults</button></form>'
    )


def _spec_text(fault: Mapping[str, Any]) -> str:
    shown = {k: v for k, v in fault.items() if k not in ("remaining", "source", "project_id")}
    return ";".join(f"{k}={v}" for k, v in shown.items() if v not in (None, False))


def shell_body() -> str:
    """A page asked for without the action token, until the script fills it."""
    return (
        '<p role="status">Loading…</p>'
        '<p class="muted">The dashboard needs JavaScript. If this stays, '
        '<a href="/dashboard/sign-in">sign in again</a>.</p>'
    )


def signed_in_body() -> str:
    """What a sign-in answers while the page's script keeps its token and opens ``/``."""
    return (
        '<p role="status">Opening the dashboard…</p>'
        '<p class="muted">The dashboard needs JavaScript. <a href="/">Continue</a></p>'
    )


def sign_in_body(form_token: str, error: str | None, email: str | None) -> str:
    """The sign-in form (the dev credentials viksa dev prints)."""
    alert = f'<p class="error-text" role="alert">{esc(error)}</p>' if error else ""
    return (
        f"{alert}"
        '<form class="narrow" method="post" action="/dashboard/sign-in">'
        f'<input type="hidden" name="form_token" value="{esc_exact(form_token)}">'
        '<div class="field"><label for="email">Email</label>'
        f'<input id="email" name="email" type="email" autocomplete="username" required '
        f'value="{esc_exact(email)}"></div>'
        '<div class="field"><label for="password">Password</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required></div>'
        '<button type="submit">Sign in</button></form>'
        '<p class="muted">Use the email and password <code>viksa dev</code> printed, or '
        "open the one-time <code>dashboard</code> link it printed.</p>"
    )
