import { describe, expect, it } from 'vitest';
import { directorAccess } from './hooks';

const me = (role: string) => ({ user: { name: 'sam', role }, directors: [{ id: 'lvs1', name: 'LVS 1', role: 'operator' }] }) as never;

describe('directorAccess: who may use operator controls', () => {
  it('operators and admins may; an admin is not told they are a viewer', () => {
    expect(directorAccess(me('operator'), 'lvs1')).toEqual({ name: 'LVS 1', disabledReason: null });
    expect(directorAccess(me('admin'), 'lvs1')).toEqual({ name: 'LVS 1', disabledReason: null });
  });
  it('a viewer may not, and is told why', () => {
    expect(directorAccess(me('viewer'), 'lvs1').disabledReason).toMatch(/sam \(viewer\).*operator role/);
  });
  it('nobody may while the role is unknown', () => {
    expect(directorAccess(undefined, 'lvs1').disabledReason).toMatch(/Checking/);
  });
});
