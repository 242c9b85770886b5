#!/bin/sh
# hostform stand-in for the traefik image's /entrypoint.sh: NOT Traefik (see /usr/local/bin/traefik and
# the image's label hostform-standin=traefik). Like upstream's: flags alone, or a traefik subcommand,
# run traefik; anything else runs as a command.
set -e
if [ "${1#-}" != "$1" ]; then
  set -- traefik "$@"
fi
case "$1" in
  version | healthcheck) set -- traefik "$@" ;;
esac
exec "$@"
