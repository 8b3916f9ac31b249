"""What the pod apps (``apps.budget``, ``apps.energy``) share: signing a person in with a
Client ID Document, visits, forms, the page frame. Built only on ``client``."""
