"""Slack's interactivity endpoint: POST /slack/interactions."""
