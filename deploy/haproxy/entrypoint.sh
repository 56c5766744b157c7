#!/bin/sh
# HAProxy must ask the container runtime's DNS server (it knows the replicas
# of the `sluice` service), not whatever upstream resolvers follow it in
# /etc/resolv.conf. The runtime's server is the first nameserver: Docker's
# 127.0.0.11, or aardvark-dns on the network gateway under podman/netavark.
# Set SLUICE_DNS_SERVER to override.
set -eu
if [ -z "${SLUICE_DNS_SERVER:-}" ]; then
  SLUICE_DNS_SERVER=$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf)
fi
case "$SLUICE_DNS_SERVER" in
  "") echo "entry: no nameserver in /etc/resolv.conf; set SLUICE_DNS_SERVER" >&2; exit 1 ;;
  *:*) SLUICE_DNS_SERVER="ipv6@$SLUICE_DNS_SERVER" ;;
esac
export SLUICE_DNS_SERVER
echo "entry: resolving sluice nodes through $SLUICE_DNS_SERVER:53"
exec "$@"
