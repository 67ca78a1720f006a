// The parts of node-zookeeper-client 1.1.3 (plain JS, no typings) Director uses.
declare module 'node-zookeeper-client' {
  import type { EventEmitter } from 'node:events';

  export interface Stat { version: number; ephemeralOwner: Buffer; mtime: Buffer }
  export interface ZkEvent { getType(): number; getName(): string; getPath(): string }
  export class Exception extends Error {
    static readonly CONNECTION_LOSS: number;
    static readonly NO_NODE: number;
    static readonly BAD_VERSION: number;
    static readonly NODE_EXISTS: number;
    static readonly NOT_EMPTY: number;
    static readonly NO_AUTH: number;
    getCode(): number;
    getName(): string;
  }
  export const CreateMode: { PERSISTENT: number; EPHEMERAL: number };
  export class Id {
    constructor(scheme: string, id: string);
    readonly scheme: string;
    readonly id: string;
  }
  export class ACL {
    constructor(permission: number, id: Id);
    readonly permission: number;
    readonly id: Id;
  }
  export const Permission: { READ: number; WRITE: number; CREATE: number; DELETE: number; ADMIN: number; ALL: number };
  type Cb<T> = (error: Exception | Error | null, result: T) => void;
  type Watcher = (event: ZkEvent) => void;

  export interface Client extends EventEmitter {
    connect(): void;
    close(): void;
    getSessionId(): Buffer;
    getSessionTimeout(): number;
    addAuthInfo(scheme: string, auth: Buffer): void;
    create(path: string, data: Buffer | null, mode: number, callback: Cb<string>): void;
    create(path: string, data: Buffer | null, acls: ACL[], mode: number, callback: Cb<string>): void;
    getACL(path: string, callback: (error: Exception | Error | null, acls: ACL[], stat: Stat) => void): void;
    remove(path: string, version: number, callback: (error: Exception | Error | null) => void): void;
    setData(path: string, data: Buffer | null, version: number, callback: Cb<Stat>): void;
    getData(path: string, watcher: Watcher | undefined, callback: (error: Exception | Error | null, data: Buffer | undefined, stat: Stat) => void): void;
    getData(path: string, callback: (error: Exception | Error | null, data: Buffer | undefined, stat: Stat) => void): void;
    exists(path: string, callback: Cb<Stat | null>): void;
    exists(path: string, watcher: Watcher, callback: Cb<Stat | null>): void;
    getChildren(path: string, callback: (error: Exception | Error | null, children: string[], stat: Stat) => void): void;
    mkdirp(path: string, callback: Cb<string>): void;
    mkdirp(path: string, data: Buffer | null, acls: ACL[], mode: number, callback: Cb<string>): void;
  }
  export function createClient(connectionString: string, options?: { sessionTimeout?: number; spinDelay?: number; retries?: number }): Client;
}
