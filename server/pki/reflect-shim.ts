/**
 * @peculiar/x509 registers its parsers through tsyringe, which insists on a
 * Reflect metadata polyfill at load time but only ever calls these three
 * functions (checked in tsyringe 4.10). The `reflect-metadata` package is not
 * installed, so this is the smallest stand-in: per-object maps, with
 * getMetadata walking the prototype chain as the proposal says.
 */
type Key = unknown;
const store = new WeakMap<object, Map<PropertyKey | undefined, Map<Key, unknown>>>();

function own(target: object, prop: PropertyKey | undefined, create: boolean): Map<Key, unknown> | undefined {
  let byProp = store.get(target);
  if (!byProp) {
    if (!create) return undefined;
    store.set(target, (byProp = new Map()));
  }
  let m = byProp.get(prop);
  if (!m && create) byProp.set(prop, (m = new Map()));
  return m;
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  R.defineMetadata = (key: Key, value: unknown, target: object, prop?: PropertyKey) => {
    own(target, prop, true)!.set(key, value);
  };
  R.getOwnMetadata = (key: Key, target: object, prop?: PropertyKey) => own(target, prop, false)?.get(key);
  R.getMetadata = (key: Key, target: object, prop?: PropertyKey) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const m = own(t, prop, false);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
}
export {};
