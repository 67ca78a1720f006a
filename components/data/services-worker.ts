/** The worker services-off-thread.ts starts: services-read.ts in a thread of its own. */
import { NEXT, readServices, type ServicesWorkerIn } from './services-read';

const scope = self as unknown as Worker;
// requests for the next slice: one that comes before readServices waits for it is kept
let asked = 0;
let wake: (() => void) | null = null;
const next = () => new Promise<void>((resolve) => {
  if (asked > 0) {
    asked--;
    resolve();
  } else {
    wake = resolve;
  }
});
scope.onmessage = (e: MessageEvent<ServicesWorkerIn | typeof NEXT>) => {
  if (e.data !== NEXT) {
    void readServices(e.data, (m) => scope.postMessage(m), next);
  } else if (wake) {
    const w = wake;
    wake = null;
    w();
  } else {
    asked++;
  }
};
