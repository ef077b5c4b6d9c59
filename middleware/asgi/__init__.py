"""The ASGI side: verify each request, authorize it, then hand it to the app.

Modules, in the order a request meets them:

* :mod:`.types`: the ASGI type aliases;
* :mod:`.middleware`: :class:`~.middleware.SigV4Middleware`, the pipeline
  (authenticate → authorize → app) for HTTP and WebSocket scopes;
* :mod:`.request`: the request as the client signed it (raw path, host,
  trusted proxies), CORS preflights, the key id a log may name;
* :mod:`.verified`: the verified-request cache (a speed-up that *accepts*
  byte-identical requests);
* :mod:`.body`: body limits, hashing, spooling, aws-chunked decoding and
  replaying the verified body to the app;
* :mod:`.identity`: the caller (:class:`~.identity.CallerIdentity`) and
  Starlette's ``request.user`` / ``request.auth``;
* :mod:`.authorize`: the :class:`~.authorize.Authorizer` seam and its
  default;
* :mod:`.replay`: replay *protection* (refuses a signature already used);
* :mod:`.refusals`, :mod:`.responses`: errors answered in the service's
  format, and the one log line per refusal;
* :mod:`.logfilter`: the access-log redactor for presigned URLs.

Imports: the core (``sigv4kit``) and the store's protocols, entities and
errors (:mod:`..store`, plus :func:`~..store.url.open_store` for a store
given by URL); the store never imports this package.
"""
