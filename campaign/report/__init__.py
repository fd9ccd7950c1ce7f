"""The joint final report and the dashboard."""
