'use client';
import type { ReactNode } from 'react';
import { useDirectorId, useLiveFeed } from '@/components/data/hooks';
import { DirectorTRPC } from '@/components/data/trpc';

function LiveFeed({ directorId }: { directorId: string }) {
  useLiveFeed(directorId);
  return null;
}

export default function DirectorLayout({ children }: { children: ReactNode }) {
  const id = useDirectorId();
  return (
    <DirectorTRPC key={id} directorId={id}>
      <LiveFeed directorId={id} />
      {children}
    </DirectorTRPC>
  );
}
