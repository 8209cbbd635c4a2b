/** A sample uplink converter and its test cases, written by `tbi init` for each integration. */
export interface SampleConverter {
  /** File name of the converter, e.g. `mqtt-uplink.js`; its cases are `mqtt-uplink.cases.json`. */
  file: string;
  source: string;
  cases: string;
}

/**
 * The same small ThingsBoard-style uplink converter for every connector: a JSON object with a
 * `deviceName` and numeric readings becomes one device record with those readings as telemetry.
 * Its cases run with `tbi test-converters converters`, so a user who edits it sees what changed.
 */
export function sampleConverter(type: string): SampleConverter {
  const source = `// Uplink converter of the ${type} integration (ThingsBoard style): the body of a function of
// \`payload\` (the message's bytes) and \`metadata\` (strings) that returns device records.
//
// Accepts JSON such as {"deviceName": "sensor-1", "temperature": 21.5}: every number in it becomes
// telemetry of that device. Edit it to fit your devices; \`tbi test-converters converters\` runs
// the cases in ${type}-uplink.cases.json beside it.
var data = decodeToJson(payload);

var telemetry = {};
for (var key in data) {
  if (typeof data[key] === 'number') telemetry[key] = data[key];
}

return {
  deviceName: data.deviceName || 'unnamed-device',
  deviceType: data.deviceType || 'sensor',
  telemetry: telemetry,
};
`;
  const cases = {
    kind: 'uplink',
    cases: [
      {
        name: 'a reading',
        payload: { json: { deviceName: 'sensor-1', temperature: 21.5, humidity: 48 } },
        receivedAt: 1700000000000,
        expected: [{ deviceName: 'sensor-1', deviceType: 'sensor', telemetry: { ts: 1700000000000, values: { temperature: 21.5, humidity: 48 } } }],
      },
      { name: 'not JSON', payload: 'hello', expected: { error: 'JSON' } },
    ],
  };
  return { file: `${type}-uplink.js`, source, cases: `${JSON.stringify(cases, null, 2)}\n` };
}
