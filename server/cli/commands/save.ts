import type { CliIo } from '../io';
import { saveCommand } from '../../snapshot/save-command';

export default function save(args: string[], io: CliIo): Promise<number> {
  return saveCommand(args, io);
}
