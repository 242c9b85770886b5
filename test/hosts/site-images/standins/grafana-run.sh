#!/bin/sh
# hostform stand-in for Grafana's /run.sh: NOT Grafana (see /usr/local/bin/grafana and the image's
# label hostform-standin=grafana). Like upstream's, it starts the server with the GF_PATHS_* paths.
set -e
exec /usr/local/bin/grafana server --homepath="$GF_PATHS_HOME" --config="$GF_PATHS_CONFIG" "$@"
