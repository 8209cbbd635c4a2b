// Uplink converter of the sample HTTP integration (ThingsBoard-style: the body of a function of
// `payload` (bytes) and `metadata` (strings) that returns device records).
//
// Accepts JSON such as {"deviceName": "greenhouse-1", "temperature": 21.5, "humidity": 48}.
// Without deviceName the device is named after the routing key's integration metadata.
var data = decodeToJson(payload);

var deviceName = data.deviceName || ('sensor-' + (metadata.site || 'unknown'));
var telemetry = {};
if (typeof data.temperature === 'number') telemetry.temperature = data.temperature;
if (typeof data.humidity === 'number') telemetry.humidity = data.humidity;

return {
  deviceName: deviceName,
  deviceType: 'thermometer',
  attributes: { site: metadata.site || 'unknown' },
  telemetry: telemetry,
};
