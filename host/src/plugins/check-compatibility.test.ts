import { describe, expect, it } from 'vitest';
import { checkCompatibility } from './check-compatibility.js';

describe('checkCompatibility', () => {
  it('accepts a range that includes the host version', () => {
    expect(checkCompatibility('p', '1.0.0', '^1.0.0', '1.2.0')).toEqual({ compatible: true });
    expect(checkCompatibility('p', '1.0.0', '>=1.0.0 <3', '2.0.0')).toEqual({ compatible: true });
  });

  it('tells to upgrade the plugin when it was built for an older API', () => {
    const result = checkCompatibility('@acme/plugin-x', '0.3.0', '^0.9.0', '1.0.0');
    expect(result).toEqual({
      compatible: false,
      reason:
        '@acme/plugin-x 0.3.0 requires plugin API ^0.9.0, but this host provides plugin API 1.0.0. Install a version of @acme/plugin-x built for plugin API ^1.0.0 (for example `npm install @acme/plugin-x@latest`), or an older @tbi/host whose plugin API matches ^0.9.0.',
    });
  });

  it('tells to upgrade the host when the plugin needs a newer API, and refuses a broken range', () => {
    const newer = checkCompatibility('p', '2.0.0', '^1.4.0', '1.0.0');
    expect(!newer.compatible && newer.reason).toContain('Install a newer @tbi/host');
    const broken = checkCompatibility('p', '1.0.0', 'not a range', '1.0.0');
    expect(!broken.compatible && broken.reason).toContain('is not a semver range');
  });
});
