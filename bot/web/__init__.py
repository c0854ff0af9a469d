"""The Agents page: every agent session the viewer may see, as HTML pages and a JSON API.

`viewer.py` (who is looking), `access.py` (the request's viewer). Reads come from the session
index only (bot/sessions/queries.py), never from a GitHub call made per page view.
"""
