/** Who is calling the agent: the role of the token, and the console user acting (if any). */
export type Role = 'viewer' | 'operator';

export interface Identity {
  role: Role;
  /** Name of the token used ("viewer", "operator"); recorded in the journal. */
  tokenName: string;
  /** The console user acting, from the console's signed x-director-actor header (lib/auth/actor.ts); recorded in the journal. */
  actor?: string;
}
