"""The pod's own web pages for people: a browser of the pod's resources.

Server-rendered (Jinja2), working without JavaScript, in English and French. Which
requests get a page is decided in ``http.negotiation``; the HTTP handlers reach the pages
through the ``PAGES`` application key (``views.Pages``), so the HTTP layer never imports
this package. Pages are shown to the person the identity provider's browser session
names (``viewer``), authorised by the same access policy as every API request.
"""
