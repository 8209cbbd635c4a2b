# A new KRaft cluster id: a Kafka Uuid, 16 random bytes in unpadded base64url (22 characters).
# Drawn again while it starts with `-` (1 draw in 64), as Kafka's own Uuid.randomUuid() does:
# `kafka-storage format --cluster-id -xyz…` takes such an id for an option and fails.
draw_uuid() { head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }

new_cluster_id() {
  local id
  while :; do
    id="$(draw_uuid)"
    [ "${id#-}" = "$id" ] && break
  done
  printf '%s\n' "$id"
}
