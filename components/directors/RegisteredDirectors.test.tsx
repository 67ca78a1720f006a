import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { REGISTERED_KEY, RegisteredDirectors } from './RegisteredDirectors';

const FP = Array.from({ length: 32 }, () => 'AB').join(':');

function render(data: unknown): { html: string; text: string } {
  const qc = new QueryClient();
  qc.setQueryData(REGISTERED_KEY, data);
  const html = renderToStaticMarkup(<QueryClientProvider client={qc}><RegisteredDirectors onApproved={async () => {}} /></QueryClientProvider>);
  return { html, text: html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ') };
}

describe('RegisteredDirectors', () => {
  it('lists each waiting director with its address, certificate and an Approve button', () => {
    const { html, text } = render({ registered: [{ directorId: 'lvs2', url: 'https://10.0.0.2:9580', fingerprint: FP, seenBy: ['LVS 1'] }], problems: ['LVS 1: registry entry x skipped: no data'] });
    expect(text).toContain('Registered, waiting for approval');
    expect(text).toContain('lvs2 https://10.0.0.2:9580');
    expect(text).toContain(FP);
    expect(html.match(/<button[^>]*>Approve<\/button>/g)).toHaveLength(1);
    expect(text).toContain('registry entry x skipped: no data');
  });

  it('says how a director gets there when none waits', () => {
    const { html, text } = render({ registered: [], problems: [] });
    expect(text).toContain('None. Where ZooKeeper is configured');
    expect(html).not.toContain('<button');
  });
});
