"""The pod's own web pages for people: a browser of the pod's resources.

Server-rendered (Jinja2), working without JavaScript, in English and French. Pages are
chosen by content negotiation (``negotiation``) and shown to the person the identity
provider's browser session names (``viewer``), authorised by the same access policy as
every API request. This package imports nothing at import time: ``style`` is shared with
the identity provider's pages, which must not pull the browser in.
"""
