"""Root test configuration: shared fixtures live in tests/plugins/.

Property tests (Hypothesis) run ``CI_EXAMPLES`` examples each and no deadline (profile
``whatwatt``); ``WHATWATT_HYPOTHESIS_EXAMPLES=5000 scripts/test tests/api`` runs more (profile
``whatwatt-large``). A test's own ``@settings`` still wins.
"""

import os

from hypothesis import HealthCheck, settings

pytest_plugins = [
    "tests.plugins.simulator",
    "tests.plugins.mosquitto",
]

CI_EXAMPLES = 150
_LARGE = os.environ.get("WHATWATT_HYPOTHESIS_EXAMPLES", "").strip()
_RELAXED = (HealthCheck.too_slow, HealthCheck.data_too_large)
settings.register_profile(
    "whatwatt", max_examples=CI_EXAMPLES, deadline=None, suppress_health_check=_RELAXED
)
settings.register_profile(
    "whatwatt-large",
    max_examples=int(_LARGE) if _LARGE.isdigit() else CI_EXAMPLES,
    deadline=None,
    suppress_health_check=_RELAXED,
)
settings.load_profile("whatwatt-large" if _LARGE else "whatwatt")
