import type { DynamoDBClient, TableDescription } from '@aws-sdk/client-dynamodb';
import { describeTableIfAny, listTags } from '../../aws/dynamodb-restore';
import { PreconditionError } from '../../errors';
import { code } from '../../slack/views/format';
import { TAG_PROTECTION, TAG_RESTORED_FROM, TAG_RUN } from '../restored-tables';

/** A table drbot restored, as it is now, with what its tags say about it. */
export interface RestoredTable {
  desc: TableDescription;
  /** The run that made it. */
  run: string;
  /** drbot turned deletion protection on (copied from the source). */
  protectionByDrbot: boolean;
}

/**
 * The restored table `name`, checked to be drbot's restore of `table`: it exists, and its tags say
 * drbot made it (`drbot-run`) from that table (`drbot-restored-from`). Anything else is refused by
 * name, so the keep and delete verbs never act on a table drbot did not make.
 */
export async function ownedRestore(ddb: DynamoDBClient, name: string, table: string, region: string): Promise<RestoredTable> {
  const desc = await describeTableIfAny(ddb, name);
  if (!desc) throw new PreconditionError('unknown_restored_table', `There is no table \`${name}\` in ${region}: nothing to act on (it may have been deleted already).`, 'Check the name the restore run reported.');
  // A tag missing its key or value (AWS always sends both) reads as no tag.
  const tags = new Map((await listTags(ddb, desc.TableArn ?? '')).map((t) => [t.Key, t.Value]));
  const run = tags.get(TAG_RUN);
  const from = tags.get(TAG_RESTORED_FROM);
  if (!run || from !== table) {
    throw new PreconditionError(
      'not_drbot_restored',
      `\`${name}\` was not made by drbot from \`${table}\`: it lacks the tags \`${TAG_RUN}\` and \`${TAG_RESTORED_FROM}=${table}\`${from && from !== table ? ` (it says it came from ${code(from)})` : ''}, so drbot leaves it alone.`,
      'drbot acts only on the tables its own restores made. Manage this one in the console.',
    );
  }
  return { desc, run, protectionByDrbot: tags.get(TAG_PROTECTION) === 'on' };
}
