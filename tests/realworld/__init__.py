"""Real servers, frameworks and a real browser (a package, so that its conftest module does
not shadow tests/conftest.py, which other test modules import as `conftest`).

Where a browser case lives (still more than three files; the restructure is not done yet):
its id, page, fetches and expected verdict are a `Case` row in the test module
(test_rw_browser_*.py; test_rw_browser.py's and test_rw_browser_generation.py's rows are
rw_browser.CASES); the `Fetch` shapes, page servers, Chromium and the verdict format are in
rw_browser.py; the app that answers is the rw_served module the test serves (browser_api.py:
the path `/<config>/<case id>` picks CONFIGS[config], the CORS settings); server processes and
the implementation switch (FASTCORS_NO_EXTENSIONS) are rw_support.py's. HTTP-only cases over
servers and frameworks: settings in rw_served/settings.py, checks in rw_expect.py.
"""
