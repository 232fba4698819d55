"""Real servers, frameworks and a real browser (a package, so that its conftest module does
not shadow tests/conftest.py, which other test modules import as `conftest`).

Where a browser case lives, in three files: its id, page, fetches and expected verdict are a
`Case` row in its test module (test_rw_browser_*.py; test_rw_browser_generation.py reuses
test_rw_browser.py's); how the fetches run in Chromium and how a verdict is written are in
rw_browser.py; the app that answers is the rw_served module the test serves (browser_api.py:
the path `/<config>/<case id>` picks CONFIGS[config], the CORS settings). Starting server
processes and the implementation switch (FASTCORS_NO_EXTENSIONS), shared by every test here,
are rw_support.py's. HTTP-only cases over servers and frameworks: settings in
rw_served/settings.py, checks in rw_expect.py.
"""
