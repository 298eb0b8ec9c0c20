"""The web page's files: ``index.html`` (jobs and the submit form), ``job.html`` (one
job), and ``static/`` (the scripts and the style sheet). Served by
:mod:`api.routes.pages`; nothing is fetched from another host."""
