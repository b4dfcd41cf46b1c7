"""Benchmarks of the whatwatt integration (not run by the tests); see bench/README.md."""
