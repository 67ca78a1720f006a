import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { Header } from '@/components/shell/Header';
import { THEME_INIT_SCRIPT } from '@/components/shell/ThemeToggle';
import { Providers } from './providers';
import './globals.css';

export const metadata: Metadata = {
  title: 'Director',
  description: 'Linux Virtual Server console',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: THEME_INIT_SCRIPT }} />
      </head>
      <body className="min-h-screen bg-surface font-sans text-ink antialiased">
        <Providers>
          <Header />
          <main className="mx-auto max-w-[1800px] px-4 py-5">{children}</main>
        </Providers>
      </body>
    </html>
  );
}
