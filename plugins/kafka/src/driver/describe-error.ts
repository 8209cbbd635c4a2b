// @platformatic/kafka reports a failed operation as a tree: MultipleErrors ("joinGroup failed 4
// times. findGroupCoordinator failed 4 times.") over one error per attempt, each a NetworkError
// ("Connection to 127.0.0.1:1 failed.") over the socket's own error (ECONNREFUSED). Its top
// message repeats once per level and names neither the address nor the cause; what a user needs
// is at the leaves.

interface ErrorNode {
  code?: unknown;
  /** Kafka's error name of a ProtocolError, e.g. TOPIC_ALREADY_EXISTS. */
  apiId?: unknown;
  message?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/** Every error of the tree, depth first (aggregated `errors` and `cause` chains). */
function nodes(error: unknown, into: ErrorNode[] = [], depth = 0): ErrorNode[] {
  if (typeof error !== 'object' || error === null || depth > 10) return into;
  const e = error as ErrorNode;
  into.push(e);
  if (Array.isArray(e.errors)) for (const inner of e.errors) nodes(inner, into, depth + 1);
  if (e.cause !== undefined) nodes(e.cause, into, depth + 1);
  return into;
}

const isLeaf = (e: ErrorNode) => !(Array.isArray(e.errors) && e.errors.length > 0) && e.cause === undefined;
const unique = (values: string[]) => [...new Set(values)];

/** Every `code` in an error tree. */
export function errorCodes(error: unknown): Set<string> {
  return new Set(nodes(error).flatMap((e) => (typeof e.code === 'string' ? [e.code] : [])));
}

/** Every Kafka protocol error name (`TOPIC_ALREADY_EXISTS`, …) in an error tree. */
export function kafkaErrorNames(error: unknown): Set<string> {
  return new Set(nodes(error).flatMap((e) => (typeof e.apiId === 'string' ? [e.apiId] : [])));
}

/**
 * One line for health and logs: `cannot reach Kafka at 127.0.0.1:1 (ECONNREFUSED)` when no
 * broker answered, `Kafka at … refused the login (…)` for SASL, else the distinct messages at the
 * bottom of the tree.
 */
export function describeKafkaError(error: unknown, bootstrapServers: readonly string[]): string {
  const all = nodes(error);
  const codes = errorCodes(error);
  const leaves = all.filter(isLeaf);
  const leafText = (e: ErrorNode) =>
    typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) ? e.code : String(e.message ?? e.code ?? 'unknown error').replace(/\.$/, '');
  const servers = bootstrapServers.join(', ');
  if (codes.has('PLT_KFK_AUTHENTICATION')) return `Kafka at ${servers} refused the login (${unique(leaves.map(leafText)).join('; ')})`;
  if (codes.has('PLT_KFK_NETWORK') || codes.has('PLT_KFK_TIMEOUT')) {
    return `cannot reach Kafka at ${servers} (${unique(leaves.map(leafText)).join('; ')})`;
  }
  const messages = unique(leaves.map(leafText));
  return messages.length > 0 ? messages.join('; ') : String((error as ErrorNode)?.message ?? error);
}
