#!/bin/sh
# Installs the agent-audit index templates into Elasticsearch (8.x / 9.x): three component
# templates and the composable index template for the data stream logs-ai_audit-default, which
# the elasticsearch sink (encoding: ecs) writes to. Idempotent: PUT replaces older versions.
# Existing backing indices keep their mapping; roll the data stream over to apply a new one:
#   curl -X POST "$ES_URL/logs-ai_audit-default/_rollover"
#
#   ES_URL       default http://localhost:9200
#   ES_API_KEY   API key (the "encoded" value), or
#   ES_USER / ES_PASSWORD   basic authentication
#   ES_CA_CERT   CA certificate file for TLS (optional)
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
url=${ES_URL:-http://localhost:9200}
url=${url%/}

put() {
  # $1 = API path, $2 = JSON file. Credentials are passed in a header file, never on the command line.
  if [ -n "${ES_API_KEY:-}" ]; then
    printf 'Authorization: ApiKey %s\n' "$ES_API_KEY" > "$headers"
  elif [ -n "${ES_USER:-}" ]; then
    printf 'Authorization: Basic %s\n' "$(printf '%s:%s' "$ES_USER" "${ES_PASSWORD:-}" | base64 | tr -d '\n')" > "$headers"
  else
    : > "$headers"
  fi
  if ! out=$(curl -sS -X PUT "$url/$1" -H 'Content-Type: application/json' -H "@$headers" ${ES_CA_CERT:+--cacert "$ES_CA_CERT"} --data-binary "@$2" -w '\n%{http_code}'); then
    echo "install: PUT $1 failed (is $url reachable?)" >&2
    exit 1
  fi
  code=$(printf '%s' "$out" | tail -n 1)
  body=$(printf '%s' "$out" | sed '$d')
  case $code in
    2??) echo "PUT $1: $code" ;;
    *) echo "install: PUT $1 answered $code: $body" >&2; exit 1 ;;
  esac
}

headers=$(mktemp)
trap 'rm -f "$headers"' EXIT
for f in "$here"/component_templates/*.json; do
  put "_component_template/$(basename "$f" .json)" "$f"
done
for f in "$here"/index_templates/*.json; do
  put "_index_template/$(basename "$f" .json)" "$f"
done
echo "installed: data streams logs-ai_audit-* now get the agent-audit ECS mapping"
