import Link from 'next/link';

/** Placeholder: the lab (a throwaway kernel with real IPVS and traffic) is built separately. */
export default function LabPage() {
  return (
    <div className="mx-auto max-w-2xl rounded-lg border border-line bg-panel p-6">
      <h1 className="text-lg font-semibold">Lab</h1>
      <p className="mt-2 text-sm text-ink-2">
        The lab runs a throwaway Linux kernel with real IPVS, clients and real servers, so you can try rules and watch
        traffic without touching production. It is not wired into the console yet.
      </p>
      <p className="mt-2 text-sm text-ink-2">Meanwhile, start it from a shell: <code className="rounded bg-panel-2 px-1.5 py-0.5 font-mono text-xs">npx tsx server/lab/cli.ts run -- bash</code></p>
      <p className="mt-4 text-sm"><Link href=".." className="text-accent underline">Back to the overview</Link></p>
    </div>
  );
}
