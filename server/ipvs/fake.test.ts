import { ipvsContract } from './contract';
import { FakeIpvs } from './fake';

ipvsContract('in-memory fake', async () => new FakeIpvs());
