"""The machinery behind `scripts/develop` and the browser end-to-end test.

`haconfig` writes a Home Assistant configuration folder (onboarding done, integration linked),
`hass_api` drives a running Home Assistant over HTTP (owner account, tokens, the MQTT entry),
`procs` starts child processes and stops them by process id, `broker` picks and starts an MQTT
broker, `devices` hosts the simulated whatwatt Go devices, `stack` puts it all together and
`__main__` is the command line of `scripts/develop`.
"""
