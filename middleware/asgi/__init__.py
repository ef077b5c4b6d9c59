"""The ASGI side: verify each request, authorize it, then hand it to the app.

Modules, in the order a request meets them:

* :mod:`.types`: the ASGI type aliases;
* :mod:`.middleware`: :class:`~.middleware.SigV4Middleware`, the pipeline
  (authenticate → authorize → app) for HTTP and WebSocket scopes;
* :mod:`.replay`: replay *protection* (refuses a signature already used);
* :mod:`.responses`: error bodies in the service's format;
* :mod:`.logfilter`: the access-log redactor for presigned URLs.

Imports: the core (``sigv4kit``) and the store's protocols, entities and
errors (:mod:`..store`), never the other way round.
"""
