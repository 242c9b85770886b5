#!/bin/sh
# hostform stand-in for the pms-docker image's /init: NOT Plex Media Server (see /usr/local/bin/plex and
# the image's label hostform-standin=plex).
set -e
exec /usr/local/bin/plex "$@"
