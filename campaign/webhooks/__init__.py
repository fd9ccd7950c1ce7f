"""Signed webhooks: subscriptions to the campaign's events, and their deliveries by the worker.

A low-level package: the domain packages (enrolment, events, surveys, network) call `emit`
in their own transaction; the `webhooks` job delivers (campaign/webhooks/delivery.py).
"""
