import { describe, expect, it } from 'vitest';
import { aclWorldWritable } from './zookeeper';

const acl = (permission: number, scheme: string, id: string) => ({ permission, id: { scheme, id } });

describe('which ZooKeeper ACLs let someone outside the cluster change a node', () => {
  it('world:anyone with any of write, create, delete or admin', () => {
    // node-zookeeper-client's default for create and mkdirp: OPEN_ACL_UNSAFE
    expect(aclWorldWritable([acl(31, 'world', 'anyone')])).toBe('world:anyone:rwcda');
    expect(aclWorldWritable([acl(31, 'digest', 'director:x'), acl(4, 'world', 'anyone')])).toBe('world:anyone:c');
    expect(aclWorldWritable([acl(16, 'world', 'anyone')])).toBe('world:anyone:a');
  });
  it('an ip ACL (any client from there, no credentials)', () => {
    expect(aclWorldWritable([acl(2, 'ip', '10.0.0.0/8')])).toMatch(/^ip:10.0.0.0\/8:w/);
  });
  it('the cluster\'s digest identity alone, or reading for the world, is fine', () => {
    expect(aclWorldWritable([acl(31, 'digest', 'director:x')])).toBeNull();
    expect(aclWorldWritable([acl(31, 'digest', 'director:x'), acl(1, 'world', 'anyone')])).toBeNull();
    expect(aclWorldWritable([])).toBeNull();
  });
});
