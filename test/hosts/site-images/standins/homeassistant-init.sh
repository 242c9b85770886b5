#!/bin/sh
# hostform stand-in for Home Assistant's /init: NOT Home Assistant (see /usr/local/bin/hass and the
# image's label hostform-standin=home-assistant). Upstream's s6 init runs `python3 -m homeassistant
# --config /config`; this runs the stand-in with the same configuration directory.
set -e
exec /usr/local/bin/hass --config /config "$@"
