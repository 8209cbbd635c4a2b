import type { Metadata } from '@tbi/plugin-api';

/** What the route knows about one request besides its body. */
export interface RequestFacts {
  method: string;
  headers: Headers;
  /** The query string with its leading `?`, or empty (most webhooks have none: no URL is parsed then). */
  search: string;
  /** Path after the routing key, without the leading slash; empty when none. */
  pathSuffix: string;
  remoteAddress: string;
  /** Header names left out of the metadata (the secrets of the headers filter). */
  hiddenHeaders: ReadonlySet<string>;
}

/**
 * Builds the converter metadata of an uplink request, ThingsBoard style: each header as
 * `Header:<lower-case name>` (as ThingsBoard's HTTP integration does), plus what ThingsBoard does
 * not give: each query parameter as `Query:<name>` (repeated parameters joined with `,`),
 * `pathSuffix`, `remoteAddress` and `httpMethod`. `integrationName` is added by the host.
 */
export function requestMetadata(facts: RequestFacts): Metadata {
  const metadata: Metadata = {};
  facts.headers.forEach((value, name) => {
    if (!facts.hiddenHeaders.has(name)) metadata[`Header:${name}`] = value;
  });
  if (facts.search.length > 1) {
    const params = new URLSearchParams(facts.search);
    for (const name of new Set(params.keys())) metadata[`Query:${name}`] = params.getAll(name).join(',');
  }
  if (facts.pathSuffix !== '') metadata.pathSuffix = facts.pathSuffix;
  metadata.remoteAddress = facts.remoteAddress;
  metadata.httpMethod = facts.method;
  return metadata;
}
