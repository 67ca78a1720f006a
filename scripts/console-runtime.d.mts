// Types for scripts/console-runtime.mjs.
export declare class ConsoleBuildMissing extends Error {}
export declare function copyReadable(src: string, dest: string): void;
export declare function assembleConsole(opts: { root: string; dest: string }): Promise<string>;
