def pytest_configure(config):
    config.addinivalue_line("markers", "full: slow tests left out of the fast target (scripts/test.sh --fast)")
