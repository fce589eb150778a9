#!/bin/sh
# Registers TEMPORAL_NAMESPACE once the frontend answers; an existing namespace is left as it is. Compose
# restarts this job on failure, so a frontend still starting only costs a retry. The local stack
# (`npm start -- --temporal server`) runs it too, with the cached `temporal` CLI first on PATH.
set -eu
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
ADDRESS=${TEMPORAL_ADDRESS:-temporal:7233}
RETENTION=${TEMPORAL_NAMESPACE_RETENTION:-72h}
attempt=0
until temporal operator cluster health --address "$ADDRESS"; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "Temporal at $ADDRESS is not serving after $attempt attempts" >&2
    exit 1
  fi
  sleep 2
done
if temporal operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" --address "$ADDRESS"
  echo "namespace $NAMESPACE created"
fi
