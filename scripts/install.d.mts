// Types for scripts/install.mjs (plain JavaScript: it runs before node_modules exists).
export declare const DEBIAN_PACKAGES: Record<string, string>;
export declare const PACKAGE_SETS: { lab: string[]; xstateShim: string[]; ha: string[]; browser: string[] };
export declare function missingDebianPackages(names: string[]): string[] | null;
export declare function ensureDebianPackages(names: string[], opts: { who: string; log?: (line: string) => void }): boolean;
export declare function nodeModulesInstalled(root: string): boolean;
export declare function ensureNodeModules(root: string, opts: { who: string; log?: (line: string) => void }): boolean;
