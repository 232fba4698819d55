"""Real servers, frameworks and a real browser (a package, so that its conftest module does
not shadow tests/conftest.py, which other test modules import as `conftest`)."""
