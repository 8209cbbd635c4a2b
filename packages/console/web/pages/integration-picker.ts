import { h } from '../dom.js';
import { listIntegrations } from './integrations.js';

/** A labelled `<select>` of the integrations; picking one calls `onPick`. */
export async function integrationPicker(
  current: string | undefined,
  onPick: (name: string) => void,
  options: { allowAll?: boolean } = {},
): Promise<HTMLElement> {
  const integrations = await listIntegrations();
  const select = h(
    'select',
    { id: 'integration' },
    ...(options.allowAll ? [h('option', { value: '' }, 'all integrations')] : current ? [] : [h('option', { value: '' }, 'choose…')]),
    ...integrations.map((i) => h('option', { value: i.name, ...(i.name === current ? { selected: true } : {}) }, `${i.name} (${i.type})`)),
  );
  select.addEventListener('change', () => onPick(select.value));
  return h('div', { class: 'picker' }, h('label', { for: 'integration' }, 'Integration'), select);
}
