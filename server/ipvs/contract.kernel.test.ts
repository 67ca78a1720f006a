import { ipvsContract } from './contract';
import { openIpvs } from './open';

// The behaviour suite the in-memory fake also passes (fake.test.ts), here against the real kernel.
ipvsContract('kernel via netlink', () => openIpvs());
