"""Statistics of sensors taken over from the vendor's integration stay in a unit they continue in.

Their power (kW), energy (kWh), reactive energy (kvarh), voltage, current and power factor have
this integration's native units: nothing to do. Their reactive power (kvar) and apparent power
(kVA) become var and VA here (the units Home Assistant 2025.4 allows for those device classes):

* where the recorder converts kvar ↔ var and kVA ↔ VA (later lines), nothing is done either:
  Home Assistant keeps showing such a sensor in the unit its entity registry entry last had
  (``SensorEntity`` sets it as the suggested unit when the native unit changed), and the
  statistics go on in it;
* where it cannot (2025.4), the statistics would stop with a "units changed" issue. There the
  recorded statistics (long and short term) are rescaled once, in the recorder's own thread, and
  take the new unit.

Only the recorder's statistics tables change; recorded states keep the unit they were recorded in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol, cast

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.recorder import get_instance, session_scope

from .const import LOGGER

if TYPE_CHECKING:
    from homeassistant.components.recorder.core import Recorder
    from homeassistant.components.recorder.tasks import RecorderTask
    from sqlalchemy.orm import Session

    class _UnitMetaManager(Protocol):
        """The statistics metadata manager of the lines whose recorder cannot convert kvar or kVA.

        There (2025.4) a statistic's unit is updated alone; the later lines, which give the call a
        unit class as well, convert on their own and never run the rescale.
        """

        def update_unit_of_measurement(
            self, session: Session, statistic_id: str, new_unit: str | None
        ) -> None:
            """Give the statistic ``new_unit`` (in the recorder's thread)."""


RECORDER: Final = "recorder"
# (their unit, our unit) → factor from theirs to ours.
RESCALE: Final[dict[tuple[str, str], float]] = {("kvar", "var"): 1000.0, ("kVA", "VA"): 1000.0}


@callback
def async_keep_statistics(hass: HomeAssistant, changes: list[tuple[str, str, str]]) -> None:
    """Queue a rescale of each ``(entity id, their unit, our unit)`` the recorder cannot convert."""
    if not changes or RECORDER not in hass.config.components:
        return
    # Imported only with the recorder loaded (hence already imported).
    from homeassistant.components.recorder.statistics import (  # noqa: PLC0415
        STATISTIC_UNIT_TO_UNIT_CONVERTER,
    )

    for entity_id, old_unit, new_unit in changes:
        if (factor := RESCALE.get((old_unit, new_unit))) is None:
            continue
        converter = STATISTIC_UNIT_TO_UNIT_CONVERTER.get(old_unit)
        if converter is not None and new_unit in converter.VALID_UNITS:
            continue  # the recorder converts on its own
        get_instance(hass).queue_task(_rescale_task(entity_id, old_unit, new_unit, factor))


def _rescale_task(statistic_id: str, old_unit: str, new_unit: str, factor: float) -> RecorderTask:
    """Return the recorder task that rescales one statistic (built on the recorder's classes)."""
    from homeassistant.components.recorder.db_schema import (  # noqa: PLC0415
        Statistics,
        StatisticsShortTerm,
    )
    from homeassistant.components.recorder.tasks import (  # noqa: PLC0415
        RecorderTask as BaseTask,
    )
    from sqlalchemy import update  # noqa: PLC0415

    @dataclass(slots=True)
    class RescaleStatisticsTask(BaseTask):
        """Multiply a statistic's recorded values by ``factor`` and give it ``new_unit``."""

        def run(self, instance: Recorder) -> None:
            """Rescale, unless the statistic is gone or already in another unit (idempotent)."""
            manager = instance.statistics_meta_manager
            with session_scope(session=instance.get_session()) as session:
                found = manager.get(session, statistic_id)
                if found is None or found[1]["unit_of_measurement"] != old_unit:
                    return
                metadata_id = found[0]
                for table in (Statistics, StatisticsShortTerm):
                    session.execute(
                        update(table)
                        .where(table.metadata_id == metadata_id)
                        .values(
                            mean=table.mean * factor,
                            min=table.min * factor,
                            max=table.max * factor,
                            state=table.state * factor,
                            sum=table.sum * factor,
                        )
                    )
                cast("_UnitMetaManager", manager).update_unit_of_measurement(
                    session, statistic_id, new_unit
                )
            LOGGER.info(
                "Statistics of %s rescaled from %s to %s (taken over from the vendor's)",
                statistic_id,
                old_unit,
                new_unit,
            )

    return RescaleStatisticsTask()
