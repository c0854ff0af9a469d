"""The Agents page: every agent session the viewer may see, as HTML pages and a JSON API.

`viewer.py` (who is looking), `access.py` (the request's viewer), `filters.py` (the URL's filters),
`listing.py` (what the pages and the API show), `markdown.py` (the log summary's HTML), `api.py`
(the JSON API, described in docs/openapi.yaml), `pages.py` (the HTML pages: templates/, static/,
`look.py`; docs/agents-page.md), `headers.py` (the security headers on every response). Reads come from the session index only
(bot/sessions/queries.py), never from a GitHub call made per page view.
`insights.py` and `chart.py`: `/insights`, the report of bot/sessions/report.py and its chart.
"""
