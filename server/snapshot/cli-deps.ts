/** What the save/restore commands need from the outside, injectable so tests can run them on any backend. */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { NameResolver } from '@/lib/snapshot/resolve';
import { openIpvs } from '../ipvs/open';
import { systemResolver } from './resolver';

export interface SnapshotCliDeps {
  openBackend(): Promise<IpvsBackend>;
  readFile(path: string): Promise<string>;
  resolver: NameResolver;
  hostname(): string;
  now(): Date;
}

export const defaultDeps: SnapshotCliDeps = {
  // one read or one restore of the table: nothing to keep for a next dump
  openBackend: () => openIpvs({ reuse: false }),
  readFile: (p) => readFile(p, 'utf8'),
  resolver: systemResolver(),
  hostname,
  now: () => new Date(),
};
