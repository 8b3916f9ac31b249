"""Consent: what a person lets organisations and apps do with their pod."""
