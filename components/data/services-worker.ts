/** The worker services-off-thread.ts starts: services-read.ts in a thread of its own. */
import { readServices, type ServicesWorkerIn } from './services-read';

const scope = self as unknown as Worker;
scope.onmessage = (e: MessageEvent<ServicesWorkerIn>) => void readServices(e.data, (m) => scope.postMessage(m));
