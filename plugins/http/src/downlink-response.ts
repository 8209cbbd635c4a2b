import type { EncodedDownlink, OutboundDownlink } from '@tbi/plugin-api';

const CONTENT_TYPES: Record<EncodedDownlink['contentType'], string> = {
  JSON: 'application/json',
  TEXT: 'text/plain; charset=utf-8',
  BINARY: 'application/octet-stream',
};

/** The MIME type for a downlink converter's `contentType`. */
export function mimeType(contentType: EncodedDownlink['contentType']): string {
  return CONTENT_TYPES[contentType] ?? 'application/octet-stream';
}

/**
 * The HTTP response that carries a downlink back to the device (synchronous downlink): 200, the
 * downlink's bytes (Base64-decoded for BINARY) and the matching `Content-Type`.
 */
export function downlinkResponse(downlink: OutboundDownlink): Response {
  return new Response(downlink.payload as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: { 'content-type': mimeType(downlink.encoded.contentType) },
  });
}
