"""Client for the whatwatt Go smart-meter reader (aiohttp and the standard library only)."""
