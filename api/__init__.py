"""The lps-init HTTP service and its Python client.

``app`` (the factory :func:`api.app.create_app`), ``settings`` (``LPS_*``), ``deps`` (what
endpoints need), ``routes/`` (``solve``, ``jobs``, ``ops``), ``errors``, ``middleware``,
``metrics``, ``schemas``; ``jobs/`` (the store, the worker pool, admission); ``engine``
(the one door into ``solver``); ``client`` (Python client); ``cli_serve`` (``lps serve``).
"""
