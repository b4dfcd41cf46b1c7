"""A refused password: told once, tried again at a slow pace, healed without anyone's help."""

from __future__ import annotations

import contextlib
import inspect
from typing import TYPE_CHECKING

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.data_entry_flow import UnknownFlow
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api.errors import WhatwattAuthError, WhatwattError
from .const import AUTH_RETRY_INTERVAL, DOMAIN, LOGGER
from .errors import update_error

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable
    from datetime import datetime

    from homeassistant.config_entries import ConfigEntry

    from .api.client import WhatwattClient


class AuthWatch:
    """The stored password of one entry while the device refuses it."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, client: WhatwattClient) -> None:
        """Watch ``entry``'s password; nothing is tried before ``async_start``."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self._resumers: list[Callable[[], object]] = []
        self._started = False
        self.refused = False
        self._unsub_retry: CALLBACK_TYPE | None = None
        self._trying: asyncio.Task[None] | None = None

    def on_heal(self, resume: Callable[[], object]) -> None:
        """Call ``resume`` (a callback or a coroutine function) when the password works again."""
        self._resumers.append(resume)

    @callback
    def async_start(self) -> None:
        """Start watching (the entry is set up); a refusal met during the set-up counts now."""
        self._started = True
        if self.refused:
            self._ask()

    @callback
    def async_stop(self) -> None:
        """Stop trying (the entry unloads); a try in flight is cancelled with the entry."""
        self._started = False
        self._disarm()

    @callback
    def async_refused(self) -> None:
        """Take a refusal of the stored password: say so once, ask, and keep trying it."""
        if self.refused:
            return
        self.refused = True
        if self._started:
            LOGGER.warning(
                "%s refuses its stored password. Home Assistant asks for the new one "
                "(Settings → Repairs); meanwhile the stored one is tried again every %.0f s",
                self._entry.title,
                AUTH_RETRY_INTERVAL.total_seconds(),
            )
            self._ask()

    def _ask(self) -> None:
        """Ask for the new password and try the stored one again at a slow pace."""
        self._entry.async_start_reauth(self._hass)
        if self._unsub_retry is None:
            self._unsub_retry = async_track_time_interval(
                self._hass, self._async_retry_due, AUTH_RETRY_INTERVAL, name=f"{DOMAIN} password"
            )

    def _disarm(self) -> None:
        if self._unsub_retry is not None:
            self._unsub_retry()
            self._unsub_retry = None

    @callback
    def _async_retry_due(self, _now: datetime) -> None:
        if self._trying is None or self._trying.done():
            self._trying = self._entry.async_create_background_task(
                self._hass, self._async_try(), f"{DOMAIN} password {self._entry.title}"
            )

    async def _async_try(self) -> None:
        """Try the stored password once; carry on when it works."""
        try:
            await self._client.get_system()
        except WhatwattAuthError:
            LOGGER.debug("%s still refuses its stored password", self._entry.title)
            return
        except WhatwattError as err:  # unreachable now: the next try tells
            LOGGER.debug("%s: the stored password could not be tried: %s", self._entry.title, err)
            return
        if self._started and self.refused:
            await self._async_healed()

    async def _async_healed(self) -> None:
        self.refused = False
        self._disarm()
        LOGGER.info("%s accepts its stored password again; carrying on", self._entry.title)
        self._async_abort_reauth()
        for resume in self._resumers:
            result = resume()
            if inspect.isawaitable(result):
                await result

    @callback
    def _async_abort_reauth(self) -> None:
        """Abort the entry's re-authentication flows and delete the repairs that point at them."""
        flows = self._entry.async_get_active_flows(self._hass, {SOURCE_REAUTH})
        aborted = {flow["flow_id"] for flow in flows}
        for flow_id in aborted:
            with contextlib.suppress(UnknownFlow):
                self._hass.config_entries.flow.async_abort(flow_id)
        for issue in list(ir.async_get(self._hass).issues.values()):
            if issue.issue_domain == DOMAIN and (issue.data or {}).get("flow_id") in aborted:
                ir.async_delete_issue(self._hass, issue.domain, issue.issue_id)


class WatchedCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """A coordinator of this integration: its refused password is the auth watch's to tell."""

    on_refused: Callable[[], None] | None = None  # the watch's ``async_refused``

    def read_error(self, err: WhatwattError) -> UpdateFailed | ConfigEntryAuthFailed:
        """Return what to raise for a failed read; a refused password is told to the watch."""
        error = update_error(err)
        if isinstance(error, ConfigEntryAuthFailed) and self.on_refused is not None:
            self.on_refused()
            self.last_exception = error
            self.last_update_success = False
        return error

    @callback
    def async_set_refused(self, err: Exception) -> None:
        """Take a push source's refused password: unavailable, and the watch tells it (once)."""
        if self.on_refused is not None:
            self.on_refused()
        self.last_exception = err
        if self.last_update_success:
            self.last_update_success = False
            self.async_update_listeners()

    async def async_resume(self) -> None:
        """Read again once the password works: data, entities and polling carry on."""
        try:
            data = await self._async_update_data()
        except ConfigEntryAuthFailed:
            return
        except UpdateFailed as err:
            self.logger.error("Error fetching %s data: %s", self.name, err)  # noqa: TRY400
            await self.async_refresh()  # the failure is known: not logged again; polls on
            return
        self.async_set_updated_data(data)
