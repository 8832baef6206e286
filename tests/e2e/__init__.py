"""Browser end-to-end tests: headless Debian chromium driven by Playwright."""
