"""The WSGI application for a production web server: `gunicorn campaign.wsgi:app`.

It serves the web UI only, in as many worker processes as the server runs. The scheduled jobs
(campaign/jobs.py) run in `campaign worker` processes instead (one or more, on any machine),
where the database leases keep each exclusive job to one runner at a time; a web worker never ticks.
"""

from __future__ import annotations

from campaign import create_app

app = create_app()
