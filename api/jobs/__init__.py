"""The service's jobs: the SQLite store, the process-pool runner, and the desk (admission
and waiting) of the web process."""
