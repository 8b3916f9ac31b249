"""Consent: who asked for what, what the person decided, and the WAC rules it made.

``model`` (pure: records and their transitions), ``records`` (a record as DPV Turtle),
``rules`` (pure: the ACL edits of a grant), ``service`` (the store writes and inbox
announcements of each decision), ``apps`` (per-app limits by client id), ``wire`` (the
access-request and decision protocols over HTTP, adapters over the model, which knows
none of them).
"""
