/** A topic name split into its parts: `persistent://tenant/namespace/topic`. */
export interface TopicName {
  domain: 'persistent' | 'non-persistent';
  tenant: string;
  namespace: string;
  topic: string;
  /** The full name, `persistent://tenant/namespace/topic`. */
  full: string;
}

/** Parses a topic name; a bare name is in `public/default`, as Pulsar's clients take it. */
export function parseTopic(name: string): TopicName {
  const m = /^(persistent|non-persistent):\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(name);
  if (m) return { domain: m[1] as TopicName['domain'], tenant: m[2]!, namespace: m[3]!, topic: m[4]!, full: name };
  if (/^[^/:]+$/.test(name)) return { domain: 'persistent', tenant: 'public', namespace: 'default', topic: name, full: `persistent://public/default/${name}` };
  throw new Error(`"${name}" is not a Pulsar topic name (persistent://tenant/namespace/topic)`);
}

/** The path of a topic in the WebSocket and admin REST APIs: `persistent/tenant/namespace/topic`. */
export function topicPath(t: TopicName): string {
  return [t.domain, t.tenant, t.namespace, t.topic].map(encodeURIComponent).join('/');
}
