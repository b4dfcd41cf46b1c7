"""Browser end-to-end tests: real Home Assistant, real Chromium, simulated device."""
