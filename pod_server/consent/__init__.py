"""Consent: what organisations and apps ask of a person, and what the person decides."""
