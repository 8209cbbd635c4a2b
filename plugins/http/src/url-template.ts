import { DeliveryError, type OutboundDownlink } from '@tbi/plugin-api';

const PLACEHOLDER = /\$\{([^}]+)\}/g;

/**
 * Fills `${deviceName}`, `${commandId}` and `${metadata.<key>}` (the downlink converter's output
 * metadata) into a template. `encode` is applied to each value (use `encodeURIComponent` for
 * URLs). A placeholder without a value is a `DeliveryError` that retrying cannot fix.
 *
 * @example
 * renderTemplate('https://api/x/${metadata.devEui}/down', downlink, encodeURIComponent)
 */
export function renderTemplate(template: string, downlink: OutboundDownlink, encode: (v: string) => string = (v) => v): string {
  return template.replace(PLACEHOLDER, (_, rawName: string) => {
    const name = rawName.trim();
    let value: string | undefined;
    if (name === 'deviceName') value = downlink.deviceName;
    else if (name === 'commandId') value = downlink.commandId;
    else if (name.startsWith('metadata.')) value = downlink.encoded.metadata[name.slice('metadata.'.length)];
    if (value === undefined) {
      throw new DeliveryError(`downlink template needs \${${name}} but the downlink has no such value`, {
        retryable: false,
        context: { deviceName: downlink.deviceName, commandId: downlink.commandId, placeholder: name },
      });
    }
    return encode(value);
  });
}
