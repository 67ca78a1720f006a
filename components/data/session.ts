'use client';
import { useQuery } from '@tanstack/react-query';

export type Role = 'viewer' | 'operator' | 'admin';

export interface Me {
  user: { name: string; role: Role };
  directors: Array<{ id: string; name: string }>;
}

/** Who is signed in and which directors the console knows (served by console/server.ts). */
export function useMe() {
  return useQuery({
    queryKey: ['console', 'me'],
    queryFn: async (): Promise<Me | null> => {
      const res = await fetch('/api/me', { credentials: 'same-origin' });
      if (res.status === 401) return null;
      if (!res.ok) throw new Error(`The console answered ${res.status} for /api/me`);
      return (await res.json()) as Me;
    },
    staleTime: 60_000,
    // a director enrolled elsewhere (another tab, `director console add-agent`) shows up without a reload
    refetchInterval: 15_000,
  });
}

/** Why an operator control is disabled for this user, or null when they may use it. */
export function useOperatorOnly(): string | null {
  const me = useMe();
  if (!me.data) return 'Sign in as an operator to change rules.';
  return canOperate(me.data.user.role) ? null : `Signed in as ${me.data.user.name} (viewer): changes need the operator role.`;
}

/** Operators and admins may change rules (viewer < operator < admin). */
export function canOperate(role: Role | string): boolean {
  return role === 'operator' || role === 'admin';
}
