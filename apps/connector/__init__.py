"""Organisation connectors: an organisation's own files (OFX, camt.053, CSV, load curves)
mapped to the pod vocabularies with provenance, and pushed into its customers' pods under
the consent each customer gave. Built only on ``client/`` and ``vocab/``.
"""
