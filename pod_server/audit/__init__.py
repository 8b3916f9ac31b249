"""The owner-readable, tamper-evident audit log of every storage (issue 17).

``entry`` (what one entry says, its canonical bytes), ``chain`` (pure: compute and verify
a hash chain and its signed checkpoints), ``signing`` (the checkpoint key), ``writer``
(batched durable appends for reads and refusals), ``hook`` (which requests are logged),
``query`` (the read API's parameters), ``render`` (entries as Activity Streams 2.0)
and ``cli`` (``pod-server audit ...``); ``http.audit_log`` serves ``GET R.well-known/audit``.
The storage backends only store and chain what ``entry`` builds (``storage.base.Log``).
"""
