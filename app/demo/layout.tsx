import { notFound } from 'next/navigation';
import { connection } from 'next/server';
import { Suspense, type ReactNode } from 'react';
import { DemoBanner } from '@/components/demo/DemoBanner';

/** Dev-only pages with synthetic data, for looking at the views without an agent. */
export default async function DemoLayout({ children }: { children: ReactNode }) {
  await connection();
  if (process.env.NODE_ENV === 'production' && process.env.DIRECTOR_CONSOLE_DEMO !== '1') notFound();
  return (
    <>
      <DemoBanner />
      <Suspense>{children}</Suspense>
    </>
  );
}
