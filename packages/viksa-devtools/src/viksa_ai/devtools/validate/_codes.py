"""The catalogue of issue codes: every code a validator may report, with its meaning.

Codes are stable: a code is never reused for another meaning. The hundreds group them:
VX0xx manifest structure, VX1xx manifest rules, VX2xx agent code, VX3xx how code reads
its inputs, VX4xx call input values, VX5xx A2A envelopes.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["ISSUE_CODES"]

ISSUE_CODES = MappingProxyType(
    {
        # structure
        "VX001": "the manifest is not a JSON object",
        "VX002": "a required field is missing",
        "VX003": "a field has the wrong JSON type or an invalid value",
        "VX004": "the manifest is nested too deeply (or is too large) to validate",
        # manifest rules
        "VX101": "files has no main.py",
        "VX102": "main.py's mime_type is not python",
        "VX103": "two files have the same name",
        "VX104": "agent_endpoints is empty",
        "VX105": "two inputs have the same name",
        "VX106": "two outputs have the same name",
        "VX107": "two endpoints have the same name",
        "VX108": "an endpoint refers to an input the agent does not declare",
        "VX109": "an endpoint refers to an output the agent does not declare",
        "VX110": "an endpoint path is not alias.module.function",
        "VX111": "an endpoint name is not a Python identifier",
        "VX112": "an endpoint refers to the same input twice",
        "VX113": "a secure agent names no queue",
        "VX114": "no file holds an endpoint's module",
        "VX115": "warning: endpoint paths name different agent aliases",
        "VX116": "warning: an endpoint lists the same output twice",
        "VX117": (
            "a file name is absolute, climbs out with .., is empty, names a directory "
            "or cannot be written"
        ),
        "VX118": "warning: a file is named ViksaAI.py, which the worker replaces with the runtime",
        "VX119": "a file makes a package ViksaAI/ or an extension module ViksaAI, imported "
        "instead of the runtime",
        "VX120": "an input's pattern is not a valid regular expression",
        "VX121": "an input's lower bound is above its upper bound",
        "VX122": "an input's default does not meet its own type or constraints",
        "VX123": "warning: an allowed value does not meet the input's type or constraints",
        "VX124": "an input's length bound is negative",
        "VX125": "warning: a constraint does not apply to the input's type",
        # agent code
        "VX201": "main.py has a syntax error",
        "VX202": "Python refuses to compile main.py",
        "VX203": "main.py is not valid Unicode text (a lone surrogate)",
        "VX204": "main.py is too large to validate",
        "VX205": "main.py is nested too deeply for Python",
        "VX206": "warning: Python warns about main.py",
        "VX210": "main.py has no top-level function for an endpoint",
        "VX211": "an endpoint or @mcp_endpoint function/method is not async (or is a class)",
        "VX212": "an endpoint function is not decorated with @mcp_endpoint",
        "VX213": "@mcp_endpoint is used bare, without (description=...)",
        "VX214": "@mcp_endpoint has no usable description",
        "VX215": "warning: an endpoint function is defined more than once",
        "VX216": "an endpoint function cannot take the call's inputs",
        "VX217": "mcp_endpoint is used but not imported (or imported after its use)",
        "VX218": "warning: mcp_endpoint does not come from ViksaAI or viksa_ai.runtime",
        "VX219": "warning: an @mcp_endpoint function is not in agent_endpoints",
        "VX220": "an endpoint's name is rebound at module level after its function",
        "VX221": "warning: main.py imports a package no requirement installs",
        "VX222": "an endpoint function is an async generator (it yields)",
        # how code reads inputs
        "VX301": "code reads an input the agent does not declare",
        "VX302": "an endpoint never reads one of its required inputs",
        "VX303": "warning: no endpoint references or reads an input",
        "VX304": "warning: an endpoint never reads one of its optional inputs",
        "VX305": "warning: a parameter for an optional input has no default",
        "VX306": "warning: code reads an agent input its endpoint does not reference",
        "VX307": "warning: code reads the reserved key __viksa_a2a__",
        # call input values
        "VX401": "a required input is missing or null",
        "VX402": "an input value has the wrong type",
        "VX403": "an input value is not one of allowed_values",
        "VX404": "an input value is below min_value",
        "VX405": "an input value is above max_value",
        "VX406": "an input value is shorter than min_length",
        "VX407": "an input value is longer than max_length",
        "VX408": "an input value does not match pattern",
        "VX409": "an input value cannot be checked: its pattern is invalid",
        "VX410": "an input value cannot be checked: its pattern takes too long on it",
        # A2A envelopes
        "VX501": "the envelope is not an object, or a field is missing or invalid",
        "VX502": "the envelope's protocol_version is not supported",
        "VX503": "the envelope is addressed to another endpoint",
        "VX504": "the envelope's deadline_at has passed",
        "VX505": "the envelope's callee_agent is not the endpoint's agent",
    }
)
"""Every issue code and a one-line meaning (``warning:`` marks warning-only codes)."""
