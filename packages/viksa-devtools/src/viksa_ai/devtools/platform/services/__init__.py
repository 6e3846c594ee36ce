"""The platform's services: accounts, agents, vault, engine, workflows and the rest.

They hold the platform's rules, never import FastAPI and fail with the domain errors of
``services._errors``, which the HTTP edge renders.
"""
