import type { CliIo } from '../io';
import { restoreCommand } from '../../snapshot/restore-command';

export default function restore(args: string[], io: CliIo): Promise<number> {
  return restoreCommand(args, io);
}
