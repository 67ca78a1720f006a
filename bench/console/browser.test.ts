import { describe, expect, it } from 'vitest';
import { BROWSER_UI_FEATURES, withFeaturesOff } from './browser';

describe('withFeaturesOff', () => {
  it("keeps Playwright's features and adds ours, in one switch", () => {
    expect(withFeaturesOff('--disable-features=AimEnabled,PreconnectToSearch', ['PreloadTopChromeWebUI', 'WebUIOmniboxPopup']))
      .toBe('--disable-features=AimEnabled,PreconnectToSearch,PreloadTopChromeWebUI,WebUIOmniboxPopup');
  });
  it('names a feature once', () => {
    expect(withFeaturesOff('--disable-features=WebUIOmniboxPopup', BROWSER_UI_FEATURES))
      .toBe(`--disable-features=WebUIOmniboxPopup,${BROWSER_UI_FEATURES.filter((f) => f !== 'WebUIOmniboxPopup').join(',')}`);
  });
  it('stands alone where Playwright passed none', () => {
    expect(withFeaturesOff(undefined, ['A', 'B'])).toBe('--disable-features=A,B');
    expect(withFeaturesOff('--disable-features=', ['A'])).toBe('--disable-features=A');
  });
});
