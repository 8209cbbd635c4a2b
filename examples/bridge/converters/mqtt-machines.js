// MQTT uplink: factory/<machine>/telemetry carrying {"temperature": 71.5, "vibration": 0.02, "ts"?: ms}.
var data = decodeToJson(payload);
var machine = metadata.topic.split('/')[1];
return {
  deviceName: machine,
  deviceType: 'machine',
  attributes: { site: metadata.site, source: 'mqtt' },
  telemetry: { ts: data.ts || Date.now(), values: { temperature: data.temperature, vibration: data.vibration } },
};
