// Director console. The custom server (console/server.ts) runs this app; it
// holds agent tokens and proxies tRPC, so Next itself never talks to an agent.
process.env.NEXT_TELEMETRY_DISABLED = '1';

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // a self-contained server folder with only the modules it needs: what the Debian package ships
  output: 'standalone',
  typedRoutes: false,
  // The privileged agent and the console server live beside the app; keep
  // Turbopack from tracing them into page bundles.
  serverExternalPackages: ['netlink', 'ws'],
  turbopack: { root: import.meta.dirname },
};

export default nextConfig;
