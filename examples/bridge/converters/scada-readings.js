// RabbitMQ uplink: the SCADA system's format, e.g.
// {"tag": "PRESS_07", "time": "2026-12-03T10:00:00Z", "readings": [{"name": "TEMP_C", "value": 65.1}, {"name": "VIB_MM_S", "value": 1.2}]}
// mapped onto the same model as the MQTT machines: device "press-07", keys temperature and vibration.
var data = decodeToJson(payload);
var names = { TEMP_C: 'temperature', VIB_MM_S: 'vibration' };
var values = {};
data.readings.forEach((reading) => {
  if (names[reading.name]) values[names[reading.name]] = reading.value;
});
return {
  deviceName: data.tag.toLowerCase().replace(/_/g, '-'),
  deviceType: 'machine',
  attributes: { site: metadata.site, source: 'scada' },
  telemetry: { ts: Date.parse(data.time), values: values },
};
