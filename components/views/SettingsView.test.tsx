import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { SettingsView, type SettingsViewProps } from './SettingsView';

const noop = async () => {};
function render(p: Partial<SettingsViewProps>): { html: string; text: string } {
  const html = renderToStaticMarkup(
    <SettingsView
      directorName="lvs1" serviceCount={3} timeouts={{ tcp: 900, tcpFin: 120, udp: 300 }} timeoutsError={null}
      daemons={[]} daemonsError={null} disabledReason={null}
      onSetTimeouts={noop} onZeroAll={noop} onStartDaemon={noop} onStopDaemon={noop} onClear={noop}
      {...p}
    />,
  );
  return { html, text: html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ') };
}

describe('SettingsView', () => {
  it('shows the current timeouts and a running daemon as ipvsadm -L --daemon prints it', () => {
    const { text } = render({
      timeouts: { tcp: 1000, tcpFin: 77, udp: 40 },
      daemons: [{ state: 'master', interface: 'eth1', syncId: 7, maxLen: 1472, group: '224.0.0.81', port: 8848, ttl: 1 }],
    });
    expect(text).toContain('Current: 1000 / 77 / 40 (tcp / tcpfin / udp)');
    expect(text).toContain('master sync daemon (mcast=eth1, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)');
    expect(text).toContain('Stop master');
    expect(text).toContain('A master daemon runs');
  });

  it('says when no daemon runs, and every control says why a viewer cannot use it', () => {
    const why = 'Signed in as v (viewer): changing rules needs the operator role.';
    const { html, text } = render({ disabledReason: why });
    expect(text).toContain('No sync daemon runs');
    for (const label of ['Set timeouts', 'Start master daemon', 'Zero all counters', 'Clear table…']) {
      expect(html).toMatch(new RegExp(`<button[^>]*disabled=""[^>]*>${label}</button>`));
    }
    expect(html.split(why).length - 1).toBeGreaterThanOrEqual(4);
  });
});
