/**
 * A JSON call to the console server's own API (/api/…), with the session
 * cookie; its error message, or the status, becomes the thrown Error.
 */
export async function consoleApi<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method, credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const j = (await res.json().catch(() => null)) as (T & { error?: string }) | null;
  if (!res.ok) throw new Error(j?.error ?? `The console answered ${res.status}.`);
  return j as T;
}
