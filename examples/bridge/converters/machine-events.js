// Export encoder (a downlink converter): one JSON event per stored record for the Kafka topic.
// msgType is ENTITY_CREATED, POST_ATTRIBUTES_REQUEST or POST_TELEMETRY_REQUEST; metadata has
// deviceName, deviceType, seq (the platform's log position), ts (telemetry) and integration.
// The record key is the device name unless metadata.key is set here.
return {
  contentType: 'JSON',
  data: JSON.stringify({
    device: metadata.deviceName,
    type: metadata.deviceType,
    event: msgType,
    ts: metadata.ts ? Number(metadata.ts) : Number(metadata.storedAt),
    data: msg,
    via: metadata.integration,
    seq: Number(metadata.seq),
  }),
  metadata: {},
};
